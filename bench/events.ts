// Scenario 4, in a process of its own: `node -r ts-node/register/transpile-only bench/events.ts <spec.json> <out.json>`.
// Each user holds a socket.io connection as the app would; their orders' notifications are
// posted from here, and the time from a notification's answer to the owner's `order.paid` is
// measured on this process's clock.
import { Agent } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { createOrder, inPool, postNotification, prepareNotification } from './api';
import { CpuMeter, MeterSpec } from './cpu';
import { nowUs } from './profile';
import { latencySummary, round } from './stats';
import { signToken } from './tokens';
import { accepted, Method } from './wire';

export interface EventsSpec {
  url: string;
  sandboxUrl: string;
  users: number;
  ordersPerUser: number;
  /** Notifications in flight at once. */
  concurrency: number;
  userPrefix: string;
  meter: MeterSpec;
}

const CONNECT_TIMEOUT_MS = 5000;
const EVENT_WAIT_MS = 5000;

function connect(url: string, userId: string): Promise<Socket> {
  const socket = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token: signToken(userId) },
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new Error(`not connected within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (e: Error) => {
      clearTimeout(timer);
      socket.disconnect();
      reject(new Error(`connect_error: ${e.message}`));
    });
  });
}

async function run(spec: EventsSpec): Promise<Record<string, unknown>> {
  const users = Array.from({ length: spec.users }, (_, i) => `${spec.userPrefix}-${i}`);
  const eventAt = new Map<string, number>();
  let sockets: Socket[];
  try {
    sockets = await inPool(users, 20, async (user) => {
      const socket = await connect(spec.url, user);
      socket.on('order.paid', (message: { order_no?: string }) => {
        if (message?.order_no && !eventAt.has(message.order_no)) eventAt.set(message.order_no, performance.now());
      });
      return socket;
    });
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
  try {
    const methods: Method[] = ['wechat', 'alipay'];
    const jobs = users.flatMap((user, u) => Array.from({ length: spec.ordersPerUser }, (_, k) => ({ user, method: methods[(u + k) % 2] })));
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
    const deadline = performance.now() + EVENT_WAIT_MS;
    while (performance.now() < deadline && [...answered.keys()].some((no) => !eventAt.has(no))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    agent.destroy();
    const endUs = nowUs();
    const cpuUsed = process.cpuUsage(cpuBefore);
    const cpu = meter.shares(before, await meter.snapshot(), cpuUsed.user + cpuUsed.system);

    const afterAnswer: number[] = [];
    const fromSend: number[] = [];
    let beforeAnswer = 0;
    let missing = 0;
    for (const [orderNo, t] of answered) {
      const at = eventAt.get(orderNo);
      if (at === undefined) {
        missing += 1;
        continue;
      }
      if (at < t.answeredAt) beforeAnswer += 1;
      afterAnswer.push(Math.max(0, at - t.answeredAt));
      fromSend.push(at - t.sentAt);
    }
    if (missing && errorSamples.length < 5) errorSamples.push(`${missing} order.paid events never arrived within ${EVENT_WAIT_MS} ms`);
    return {
      available: true,
      connections: sockets.length,
      summary: {
        requests: notes.length,
        ok: afterAnswer.length,
        errors: rejected + missing,
        seconds: round(fired, 3),
        rps: round(notes.length / fired, 1),
        // The target is the time from sending the notification to the client's event: that is the table's.
        ...latencySummary(fromSend),
        statusCodes: {},
        errorSamples,
      },
      window: { startUs, endUs },
      cpu,
      afterAnswer: latencySummary(afterAnswer),
      beforeAnswer,
    };
  } finally {
    for (const socket of sockets) socket.disconnect();
  }
}

async function main(): Promise<void> {
  const [specPath, outPath] = process.argv.slice(2);
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as EventsSpec;
  writeFileSync(outPath, JSON.stringify(await run(spec)));
  process.exit(0);
}

main().catch((e: Error) => {
  process.stderr.write(`event client failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
