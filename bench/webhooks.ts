// Scenario 5, in a process of its own: `node -r ts-node/register/transpile-only bench/webhooks.ts <spec.json> <out.json>`.
// Two webhook receivers run here, one answering at once and one after `slowMs`; both are registered
// for order.paid. Payments are settled by posting their notifications from here, and the time from
// sending a notification to the fast receiver getting its order.paid is measured on this clock: the
// slow receiver must not show in it.
import { Agent, createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createOrder, inPool, postNotification, prepareNotification } from './api';
import { CpuMeter, MeterSpec } from './cpu';
import { nowUs } from './profile';
import { latencySummary, round } from './stats';
import { signToken } from './tokens';
import { accepted, Method } from './wire';

export interface WebhooksSpec {
  url: string;
  sandboxUrl: string;
  orders: number;
  /** Notifications in flight at once. */
  concurrency: number;
  /** How long the slow receiver takes to answer. */
  slowMs: number;
  userPrefix: string;
  meter: MeterSpec;
}

const WAIT_MS = 30_000;

interface Receiver {
  server: Server;
  url: string;
  /** order_no → when its order.paid arrived. */
  arrived: Map<string, number>;
}

async function receiver(delayMs: number): Promise<Receiver> {
  const arrived = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; data: { order_no?: string } };
        if (event.type === 'order.paid' && event.data.order_no && !arrived.has(event.data.order_no)) arrived.set(event.data.order_no, at);
      } catch {
        /* counted as missing */
      }
      setTimeout(() => res.writeHead(200).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, arrived };
}

async function register(appUrl: string, url: string, admin: string): Promise<string> {
  const res = await fetch(`${appUrl}/api/v1/admin/webhook-endpoints`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, events: ['order.paid'], description: 'bench' }),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 201 || !body.id) throw new Error(`registering ${url} answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.id;
}

async function run(spec: WebhooksSpec): Promise<Record<string, unknown>> {
  const fast = await receiver(0);
  const slow = await receiver(spec.slowMs);
  const admin = signToken('bench-admin', undefined, 3600, { role: 'admin' });
  const endpoints = [await register(spec.url, fast.url, admin), await register(spec.url, slow.url, admin)];
  try {
    const methods: Method[] = ['wechat', 'alipay'];
    const users = Math.max(1, Math.ceil(spec.orders / 10));
    const jobs = Array.from({ length: spec.orders }, (_, i) => ({ user: `${spec.userPrefix}-${i % users}`, method: methods[i % 2] }));
    const orders = await inPool(jobs, 8, (job) => createOrder(spec.url, job.user, job.method));
    const notes = await inPool(orders, 8, (order) => prepareNotification(spec.sandboxUrl, order));

    const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
    const base = new URL(spec.url);
    const answered = new Map<string, { sentAt: number; answeredAt: number }>();
    const errorSamples: string[] = [];
    let rejected = 0;
    const meter = new CpuMeter(spec.meter);
    const before = await meter.snapshot();
    const cpuBefore = process.cpuUsage();
    const startUs = nowUs();
    const started = performance.now();
    await inPool(notes, spec.concurrency, async (note) => {
      const sentAt = performance.now();
      const { status, body } = await postNotification(agent, base, note);
      const answeredAt = performance.now();
      if (!accepted(note.method, status, body)) {
        rejected += 1;
        if (errorSamples.length < 5) errorSamples.push(`${status} ${body.slice(0, 200)}`);
        return;
      }
      answered.set(note.orderNo, { sentAt, answeredAt });
    });
    const fired = (performance.now() - started) / 1000;
    const deadline = performance.now() + WAIT_MS;
    while (performance.now() < deadline && [...answered.keys()].some((no) => !fast.arrived.has(no))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Where the slow receiver stood when the fast one had everything: it is served on its own.
    const slowWhenFastDone = slow.arrived.size;
    agent.destroy();
    const endUs = nowUs();
    const cpuUsed = process.cpuUsage(cpuBefore);
    const cpu = meter.shares(before, await meter.snapshot(), cpuUsed.user + cpuUsed.system);

    const fromSend: number[] = [];
    const afterAnswer: number[] = [];
    let missing = 0;
    for (const [orderNo, t] of answered) {
      const at = fast.arrived.get(orderNo);
      if (at === undefined) {
        missing += 1;
        continue;
      }
      fromSend.push(at - t.sentAt);
      afterAnswer.push(Math.max(0, at - t.answeredAt));
    }
    if (missing && errorSamples.length < 5) errorSamples.push(`${missing} webhooks never reached the fast receiver within ${WAIT_MS} ms`);
    const slowFromSend = [...answered].flatMap(([no, t]) => (slow.arrived.has(no) ? [slow.arrived.get(no)! - t.sentAt] : []));
    return {
      available: true,
      summary: {
        requests: notes.length,
        ok: fromSend.length,
        errors: rejected + missing,
        seconds: round(fired, 3),
        rps: round(notes.length / fired, 1),
        ...latencySummary(fromSend),
        statusCodes: {},
        errorSamples,
      },
      window: { startUs, endUs },
      cpu,
      afterAnswer: latencySummary(afterAnswer),
      slowReceiver: { answerMs: spec.slowMs, receivedWhenFastDone: slowWhenFastDone, ...latencySummary(slowFromSend) },
    };
  } finally {
    for (const id of endpoints)
      await fetch(`${spec.url}/api/v1/admin/webhook-endpoints/${id}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${admin}` },
      }).catch(() => undefined);
    fast.server.closeAllConnections();
    slow.server.closeAllConnections();
    fast.server.close();
    slow.server.close();
  }
}

async function main(): Promise<void> {
  const [specPath, outPath] = process.argv.slice(2);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as WebhooksSpec;
  writeFileSync(outPath, JSON.stringify(await run(spec)));
  process.exit(0);
}

main().catch((e: Error) => {
  process.stderr.write(`webhook client failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
