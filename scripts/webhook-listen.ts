/**
 * A webhook receiver for trying the service's webhooks out: `npm run webhook:listen -- --port 9000
 * --secret whsec_…` (repeat --secret during a rotation). It verifies each delivery as README's
 * receiver does (the signature over the raw body, constant-time, t within 5 minutes, the header id
 * against the body), prints the verified ones, answers 200 at once, and drops an id seen before.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const TOLERANCE_SECONDS = 300;

let args: { port?: string; secret?: string[]; host?: string };
try {
  ({ values: args } = parseArgs({
    options: { port: { type: 'string' }, secret: { type: 'string', multiple: true }, host: { type: 'string' } },
  }));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
const port = Number(args.port ?? 9000);
const secrets = args.secret ?? (process.env.WEBHOOK_SECRET ? [process.env.WEBHOOK_SECRET] : []);
if (!Number.isInteger(port) || port < 0 || port > 65535 || !secrets.length || !secrets.every((s) => s.startsWith('whsec_'))) {
  process.stderr.write(
    'usage: npm run webhook:listen -- --port 9000 --secret whsec_… [--secret whsec_… (the previous one)] [--host 127.0.0.1]\n',
  );
  process.exit(2);
}

function verify(header: string, raw: Buffer): string | null {
  const pairs = header.split(',').map((p) => p.trim().split('='));
  const t = pairs.find(([k]) => k === 't')?.[1];
  const signatures = pairs.filter(([k]) => k === 'v1').map(([, v]) => Buffer.from(v ?? '', 'hex'));
  if (!t || !/^\d+$/.test(t) || !signatures.length) return 'malformed Memberpay-Signature';
  if (Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_SECONDS) return `t=${t} is more than 5 minutes away`;
  const signed = Buffer.concat([Buffer.from(`${t}.`), raw]);
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(signed).digest();
    if (signatures.some((s) => s.length === expected.length && timingSafeEqual(s, expected))) return null;
  }
  return 'no signature matches the secret(s)';
}

const seen = new Set<string>();
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const problem = verify(String(req.headers['memberpay-signature'] ?? ''), raw);
    if (problem) {
      process.stdout.write(`REFUSED ${req.method} ${req.url}: ${problem}\n`);
      res.writeHead(400).end();
      return;
    }
    let event: { id: string; type: string; created_at: string; data: unknown };
    try {
      event = JSON.parse(raw.toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (event.id !== req.headers['memberpay-event-id']) {
      process.stdout.write(`REFUSED: Memberpay-Event-Id ${req.headers['memberpay-event-id']} is not the body's id ${event.id}\n`);
      res.writeHead(400).end();
      return;
    }
    // Answer first, work later: the sender waits at most 10 s and retries anything but a 2xx.
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    if (seen.has(event.id)) {
      process.stdout.write(`duplicate ${event.id} (${event.type}) dropped\n`);
      return;
    }
    seen.add(event.id);
    process.stdout.write(`verified ${event.type} ${event.id} created_at=${event.created_at}\n${JSON.stringify(event.data, null, 2)}\n`);
  });
});
server.listen(port, args.host ?? '127.0.0.1', () => {
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(`listening for webhooks on http://${args.host ?? '127.0.0.1'}:${bound}/ (register this URL as an endpoint)\n`);
});
