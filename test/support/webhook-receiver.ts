import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** How the receiver answers: 2xx, 500, never (the sender times out), or by closing the connection. */
export type ReceiverMode = 'ok' | 'error' | 'hang' | 'close';

export interface ReceivedEvent {
  id: string;
  type: string;
  created_at: string;
  data: any;
}

/**
 * A webhook receiver as an integrator writes one, on node:http: it checks every request's
 * signature against each of its secrets (its own HMAC code, not the service's), the header id
 * against the body's id, and keeps what it answered 2xx to. A request that fails a check is kept
 * in `rejected` and answered 400.
 */
export class WebhookReceiver {
  /** Every request, in arrival order, whatever it was answered. */
  readonly requests: { id: string; headers: IncomingMessage['headers']; body: string; answered: number | 'none' }[] = [];
  /** Events answered 2xx, in the order they were answered. */
  readonly delivered: ReceivedEvent[] = [];
  readonly rejected: string[] = [];
  /** Requests held open by `hang`, still unanswered. */
  readonly held = new Set<ServerResponse>();
  mode: ReceiverMode = 'ok';
  /** Answer of an `error`: status and body. */
  errorBody = 'receiver is broken';
  secrets: string[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Down: refuses connections (its port stays reserved for `start(port)` again). */
  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.held.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Distinct ids answered 2xx, and how often each was answered 2xx. */
  deliveredCount(id: string): number {
    return this.delivered.filter((e) => e.id === id).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const record = { id: String(req.headers['memberpay-event-id']), headers: req.headers, body, answered: 'none' as number | 'none' };
      this.requests.push(record);
      const problem = this.check(req, body);
      if (problem) {
        this.rejected.push(problem);
        record.answered = 400;
        res.writeHead(400).end(problem);
        return;
      }
      switch (this.mode) {
        case 'hang':
          this.held.add(res);
          res.on('close', () => this.held.delete(res));
          return;
        case 'close':
          req.socket.destroy();
          return;
        case 'error':
          record.answered = 500;
          res.writeHead(500, { 'content-type': 'text/plain' }).end(this.errorBody);
          return;
        default:
          record.answered = 200;
          this.delivered.push(JSON.parse(body) as ReceivedEvent);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      }
    });
  }

  /** The checks README tells a receiver to make. */
  private check(req: IncomingMessage, body: string): string | null {
    if (req.method !== 'POST') return 'not a POST';
    if (req.headers['content-type'] !== 'application/json') return `content-type ${req.headers['content-type']}`;
    const header = String(req.headers['memberpay-signature'] ?? '');
    const parts = header.split(',').map((p) => p.split('='));
    const t = parts.find(([k]) => k === 't')?.[1];
    const v1 = parts.filter(([k]) => k === 'v1').map(([, v]) => v);
    if (!t || !/^\d+$/.test(t) || !v1.length) return `malformed signature header ${header}`;
    if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return `stale t=${t}`;
    const ok = this.secrets.some((secret) => {
      const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
      return v1.some((v) => {
        const given = Buffer.from(v, 'hex');
        return given.length === expected.length && timingSafeEqual(given, expected);
      });
    });
    if (!ok) return 'no signature matches';
    let parsed: ReceivedEvent;
    try {
      parsed = JSON.parse(body) as ReceivedEvent;
    } catch {
      return 'body is not JSON';
    }
    if (parsed.id !== req.headers['memberpay-event-id'])
      return `header id ${req.headers['memberpay-event-id']} is not body id ${parsed.id}`;
    if (Object.keys(parsed).join(',') !== 'id,type,created_at,data') return `body keys ${Object.keys(parsed).join(',')}`;
    return null;
  }
}

/** Polls `condition` every 20 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
