// The faults, as a table: each kind says whether it disrupts the whole system (run one at a time, in
// schedule order) and how it is injected. The schedule is drawn from the seed before the run starts:
// every kind at least once (even in two minutes), about one more of each per 2.5 minutes, the rest
// of the times and targets at random. A new kind is one more entry in FAULT_KINDS.
import type { Client } from 'pg';
import { cutDatabase, type Instance, type RedisServer, type Sandbox } from './environment';
import { rng, type Rng } from './prng';
import { sleep } from './wait';

/** How a payment's notification is spoiled: consumed by the next payments the load makes. */
export type DeliveryFault = { kind: 'drop' } | { kind: 'three-times' } | { kind: 'late'; delayMs: number } | { kind: 'reorder' };

export interface FaultContext {
  sandbox: Sandbox;
  db: Client;
  databaseName: string;
  instances: Instance[];
  redis: RedisServer;
  /** Queues a notification fault for the next payment(s). */
  armDelivery(fault: DeliveryFault): void;
  /** Records a span of time during which answers are judged knowing the fault was on (`to` may be moved later). */
  window(kind: string, from: number, to: number): { from: number; to: number };
  /** Whether the load is over (watchers stop then). */
  over(): boolean;
  log(line: string): void;
}

export interface FaultKind {
  name: string;
  /** Disruptive kinds run one at a time (never two instances killed by two faults at once). */
  disruptive: boolean;
  inject(ctx: FaultContext, r: Rng): Promise<string>;
}

async function sandboxFault(ctx: FaultContext, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${ctx.sandbox.url}/sandbox/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`sandbox refused fault ${JSON.stringify(body)}: ${await res.text()}`);
}

type ArmedFault = { provider: string; op: string; mode: string };

/**
 * A provider fault's window: from when it is armed until the sandbox has used it up (or the load
 * is over), plus the provider timeout and a margin, since a rarely called operation may meet it
 * long after it was armed.
 */
function providerWindow(ctx: FaultContext, fault: ArmedFault): void {
  const w = ctx.window('provider', Date.now(), Number.MAX_SAFE_INTEGER);
  void (async () => {
    for (;;) {
      const list = await fetch(`${ctx.sandbox.url}/sandbox/faults`)
        .then((r) => r.json() as Promise<{ faults: ArmedFault[] }>)
        .catch(() => ({ faults: [fault] }));
      const pending = list.faults.some((f) => f.provider === fault.provider && f.op === fault.op && f.mode === fault.mode);
      if (!pending || ctx.over()) break;
      await sleep(1_000);
    }
    w.to = Date.now() + PROVIDER_FAULT_MARGIN_MS;
  })();
}

const API_OPS = {
  wechat: ['native', 'app', 'jsapi', 'h5', 'query', 'close', 'refund', '*'],
  alipay: ['precreate', 'query', 'close', 'refund', '*'],
} as const;

/** After a provider fault is used up, 502/504 answers may still be on their way this long (the provider timeout and more). */
export const PROVIDER_FAULT_MARGIN_MS = 15_000;
/** Answers within this long after the database connections were cut are counted apart. */
export const DB_CUT_WINDOW_MS = 15_000;
export const REDIS_DOWN_MS = 20_000;

export const FAULT_KINDS: FaultKind[] = [
  {
    name: 'sandbox-5xx',
    disruptive: false,
    async inject(ctx, r) {
      const provider = r.pick(['wechat', 'alipay'] as const);
      const op = r.pick(API_OPS[provider]);
      const times = r.int(1, 3);
      await sandboxFault(ctx, { provider, op, mode: 'error-500', times });
      providerWindow(ctx, { provider, op, mode: 'error-500' });
      return `${provider} ${op} answers 500 ×${times}`;
    },
  },
  {
    name: 'sandbox-timeout',
    disruptive: false,
    async inject(ctx, r) {
      const provider = r.pick(['wechat', 'alipay'] as const);
      const op = r.pick(API_OPS[provider]);
      await sandboxFault(ctx, { provider, op, mode: 'hang', times: 1 });
      providerWindow(ctx, { provider, op, mode: 'hang' });
      return `${provider} ${op} hangs once`;
    },
  },
  {
    name: 'notification-dropped',
    disruptive: false,
    async inject(ctx) {
      ctx.armDelivery({ kind: 'drop' });
      return 'the next payment is never notified';
    },
  },
  {
    name: 'notification-three-times',
    disruptive: false,
    async inject(ctx) {
      ctx.armDelivery({ kind: 'three-times' });
      return 'the next payment is notified three times';
    },
  },
  {
    name: 'notification-late',
    disruptive: false,
    async inject(ctx, r) {
      const delayMs = r.int(3_000, 20_000);
      ctx.armDelivery({ kind: 'late', delayMs });
      return `the next payment is notified ${delayMs} ms late`;
    },
  },
  {
    name: 'notifications-reordered',
    disruptive: false,
    async inject(ctx) {
      ctx.armDelivery({ kind: 'reorder' });
      return "the next two payments' notifications arrive in the reverse order";
    },
  },
  {
    name: 'refund-left-processing',
    disruptive: false,
    async inject(ctx, r) {
      const provider = r.pick(['wechat', 'alipay'] as const);
      await sandboxFault(ctx, { provider, op: 'refund', mode: 'refund-later', times: 1 });
      providerWindow(ctx, { provider, op: 'refund', mode: 'refund-later' });
      return `the next ${provider} refund is left processing (settled by the soak later)`;
    },
  },
  {
    name: 'db-connections-cut',
    disruptive: true,
    async inject(ctx) {
      const at = Date.now();
      const n = await cutDatabase(ctx.db, ctx.databaseName);
      ctx.window('db-cut', at, at + DB_CUT_WINDOW_MS);
      return `pg_terminate_backend on ${n} connection(s) of the service`;
    },
  },
  {
    name: 'instance-killed',
    disruptive: true,
    async inject(ctx, r) {
      const inst = r.pick(ctx.instances);
      const at = Date.now();
      await inst.kill();
      await inst.start();
      ctx.window('kill', at, Date.now());
      return `${inst.name} SIGKILLed and back after ${((Date.now() - at) / 1000).toFixed(1)} s`;
    },
  },
  {
    name: 'all-instances-killed',
    disruptive: true,
    async inject(ctx) {
      const at = Date.now();
      // One after the other, as a bad deploy does: none is left answering until they are back.
      for (const inst of ctx.instances) await inst.kill();
      await Promise.all(ctx.instances.map((i) => i.start()));
      ctx.window('kill', at, Date.now());
      return `${ctx.instances.map((i) => i.name).join(', ')} SIGKILLed one after the other, back after ${((Date.now() - at) / 1000).toFixed(1)} s`;
    },
  },
  {
    name: 'redis-stopped',
    disruptive: true,
    async inject(ctx) {
      const at = Date.now();
      await ctx.redis.stop();
      // The outage itself lasts this long: it is the fault, not a wait for a condition.
      await sleep(REDIS_DOWN_MS);
      await ctx.redis.start();
      ctx.window('redis', at, Date.now());
      return `Redis stopped for ${((Date.now() - at) / 1000).toFixed(1)} s`;
    },
  },
];

export interface ScheduledFault {
  /** Milliseconds after the load started. */
  at: number;
  kind: string;
  /** The seed of this fault's own choices (target, op, delay). */
  seed: number;
}

/**
 * The whole schedule from the seed. Faults start after the warm-up and stop before the last 15% of
 * the load, so the end of the run is calm enough to converge.
 */
export function faultSchedule(seed: number, loadMs: number, warmupMs: number): ScheduledFault[] {
  const r = rng(seed, 1);
  const from = warmupMs;
  const to = Math.max(from + 1, loadMs * 0.8);
  const perKind = Math.max(1, Math.ceil(loadMs / 150_000));
  const out: ScheduledFault[] = [];
  const disruptive: string[] = [];
  for (const kind of FAULT_KINDS) {
    const n = perKind + (r.chance(0.5) ? 1 : 0) - (perKind > 1 && r.chance(0.3) ? 1 : 0);
    for (let i = 0; i < n; i++) {
      if (kind.disruptive) disruptive.push(kind.name);
      else out.push({ at: Math.round(from + r.next() * (to - from)), kind: kind.name, seed: r.int(0, 2 ** 31) });
    }
  }
  // The disruptive ones run one at a time and take seconds each (an instance restarting, Redis away
  // 20 s): spread evenly over the window in a shuffled order, so they neither pile up nor run past it.
  r.shuffle(disruptive);
  const slot = (to - from) / disruptive.length;
  disruptive.forEach((kind, i) => out.push({ at: Math.round(from + i * slot + r.next() * slot * 0.25), kind, seed: r.int(0, 2 ** 31) }));
  return out.sort((a, b) => a.at - b.at);
}
