// The four scenarios of bench/README.md. Each prepares through the public routes (unmeasured), then
// measures with the load generator in a process of its own, then checks the database.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createOrder, inPool, prepareNotification } from './api';
import type { CpuShares, MeterSpec } from './cpu';
import { checkSettled, periodsWrittenByLastGrant, seedHistory, SettlementCheck } from './database';
import type { EventsSpec } from './events';
import type { WebhooksSpec } from './webhooks';
import { runTs } from './processes';
import type { Window } from './profile';
import type { LoadSummary } from './stats';
import { CreatedOrder, LoadSpec, Measurement, Method, PreparedNotification } from './wire';

export interface BenchConfig {
  createSeconds: number;
  createConnections: number;
  warmupRequests: number;
  settleOrders: number;
  settleConnections: number;
  dupOrders: number;
  dupRequests: number;
  dupConnections: number;
  eventUsers: number;
  eventOrdersPerUser: number;
  eventConcurrency: number;
  prepareConcurrency: number;
  webhookOrders: number;
  webhookConcurrency: number;
  webhookSlowMs: number;
  /** Members who already hold `historyGrants` grants, each settling one more order. */
  historyMembers: number;
  historyGrants: number;
  /** GET /membership/me requests, spread over the history members. */
  meRequests: number;
  /** Orders the floor settles (its duplicates reuse the duplicate storm's notifications). */
  floorOrders: number;
}

export interface Context {
  appUrl: string;
  sandboxUrl: string;
  dbUrl: string;
  work: string;
  runId: string;
  cfg: BenchConfig;
  meter: MeterSpec;
  /** Measured windows, to cut the service's CPU profile by scenario. */
  windows: Window[];
  log(line: string): void;
}

export interface Measured {
  summary?: LoadSummary;
  check?: SettlementCheck;
  cpu?: CpuShares;
  note?: string;
  extra?: Record<string, unknown>;
}

let files = 0;

type LoadOut = Measurement & { created: CreatedOrder[] };

async function load(ctx: Context, spec: LoadSpec, window?: string): Promise<LoadOut> {
  const n = files++;
  const specPath = join(ctx.work, `load-${n}.json`);
  const outPath = join(ctx.work, `load-${n}-out.json`);
  writeFileSync(specPath, JSON.stringify(spec));
  await runTs('load generator', 'load.ts', [specPath, outPath]);
  const out = JSON.parse(readFileSync(outPath, 'utf8')) as LoadOut;
  if (window) ctx.windows.push({ name: window, ...out.window });
  return out;
}

function createSpec(ctx: Context, prefix: string, run: { durationSeconds?: number; amount?: number }): LoadSpec {
  return {
    kind: 'create-order',
    meter: ctx.meter,
    url: ctx.appUrl,
    connections: ctx.cfg.createConnections,
    userPrefix: `${ctx.runId}-${prefix}`,
    productId: 1,
    methods: ['wechat', 'alipay'],
    ...run,
  };
}

async function fire(
  ctx: Context,
  notes: PreparedNotification[],
  connections: number,
  amount: number,
  window?: string,
): Promise<Measurement> {
  const file = join(ctx.work, `notifications-${files++}.json`);
  writeFileSync(file, JSON.stringify(notes));
  return load(ctx, { kind: 'notifications', meter: ctx.meter, url: ctx.appUrl, connections, file, amount }, window);
}

async function prepare(ctx: Context, orders: CreatedOrder[]): Promise<PreparedNotification[]> {
  const started = Date.now();
  const notes = await inPool(orders, ctx.cfg.prepareConcurrency, (o) => prepareNotification(ctx.sandboxUrl, o));
  ctx.log(`  prepared ${notes.length} signed notifications in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return notes;
}

/** 1. create-order: new users, WeChat Pay and Alipay in turn, each through the SDK to the sandbox. */
export async function createOrders(ctx: Context): Promise<Measured & { created: CreatedOrder[] }> {
  const warm = await load(ctx, createSpec(ctx, 'warm', { amount: ctx.cfg.warmupRequests }));
  ctx.log(`  warm-up: ${warm.summary.ok} orders at ${warm.summary.rps} req/s`);
  const measured = await load(ctx, createSpec(ctx, 'create', { durationSeconds: ctx.cfg.createSeconds }), 'create-order');
  return { summary: measured.summary, cpu: measured.cpu, created: [...warm.created, ...measured.created] };
}

/** 2. settlement: one signed notification per distinct pending order, each sent once. */
export async function settle(ctx: Context, pending: CreatedOrder[]): Promise<Measured> {
  const { settleOrders, warmupRequests } = ctx.cfg;
  const wanted = settleOrders + warmupRequests;
  if (pending.length < wanted) {
    const more = await load(ctx, createSpec(ctx, 'more', { amount: wanted - pending.length }));
    pending = [...pending, ...more.created];
  }
  const orders = pending.slice(0, wanted);
  const notes = await prepare(ctx, orders);
  const warm = (await fire(ctx, notes.slice(0, warmupRequests), ctx.cfg.settleConnections, warmupRequests)).summary;
  ctx.log(`  warm-up: ${warm.ok} settled at ${warm.rps} req/s`);
  const measuredNotes = notes.slice(warmupRequests);
  const { summary, cpu } = await fire(ctx, measuredNotes, ctx.cfg.settleConnections, measuredNotes.length, 'settlement');
  const check = await checkSettled(
    ctx.dbUrl,
    orders.map((o) => o.orderNo),
  );
  return { summary: { ...summary, errors: summary.errors + warm.errors }, cpu, check };
}

/** Pending orders for new users `<runId>-<prefix>-<n>`, made through the API by the load generator (not measured). */
async function morePending(ctx: Context, prefix: string, amount: number): Promise<CreatedOrder[]> {
  return (await load(ctx, createSpec(ctx, prefix, { amount }))).created;
}

/**
 * 2b. settlement with history: members who already hold years of monthly grants settle one more
 * order each, the same way as scenario 2 (each notification once). `written` is how many of a
 * member's periods the settling transaction wrote, of `held` after it.
 */
export async function history(ctx: Context): Promise<Measured & { userIds: string[]; written: { written: number; held: number } }> {
  const { historyMembers, historyGrants } = ctx.cfg;
  const orders = await morePending(ctx, 'hist', historyMembers);
  const userIds = orders.map((_, i) => `${ctx.runId}-hist-${i}`);
  const started = Date.now();
  await seedHistory(ctx.dbUrl, userIds, historyGrants);
  ctx.log(`  ${userIds.length} members given ${historyGrants} paid months each in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const notes = await prepare(ctx, orders);
  const { summary, cpu } = await fire(ctx, notes, ctx.cfg.settleConnections, notes.length, 'settlement (history)');
  const check = await checkSettled(
    ctx.dbUrl,
    orders.map((o) => o.orderNo),
  );
  const written = await periodsWrittenByLastGrant(ctx.dbUrl, userIds);
  return { summary, cpu, check, userIds, written };
}

/** 2c. GET /membership/me for members with years of history (their periods all read and laid out). */
export async function membershipMe(ctx: Context, userIds: string[]): Promise<Measured> {
  const spec: LoadSpec = {
    kind: 'get',
    meter: ctx.meter,
    url: ctx.appUrl,
    connections: ctx.cfg.settleConnections,
    path: '/api/v1/membership/me',
    userIds,
    amount: ctx.cfg.meRequests,
  };
  const { summary, cpu } = await load(ctx, spec, 'membership/me (history)');
  return { summary, cpu };
}

/**
 * The floor (bench/floor.ts) on the same database and machine: it settles fresh orders (their
 * notifications prepared the same way), then answers the duplicate storm's notifications (already
 * settled by memberpay) as often as scenario 3 does. `floor` is its URL and meter.
 */
export async function floor(
  ctx: Context,
  at: { url: string; meter: Context['meter'] },
  duplicateNotes: PreparedNotification[],
): Promise<{ settlement: Measured; duplicates: Measured }> {
  const orders = await morePending(ctx, 'floor', ctx.cfg.floorOrders);
  const notes = await prepare(ctx, orders);
  const there: Context = { ...ctx, appUrl: at.url, meter: at.meter };
  const settled = await fire(there, notes, ctx.cfg.settleConnections, notes.length, 'floor settlement');
  const check = await checkSettled(
    ctx.dbUrl,
    orders.map((o) => o.orderNo),
  );
  const dup = await fire(there, duplicateNotes, ctx.cfg.dupConnections, ctx.cfg.dupRequests, 'floor duplicates');
  return { settlement: { summary: settled.summary, cpu: settled.cpu, check }, duplicates: { summary: dup.summary, cpu: dup.cpu } };
}

/** 3. duplicates: a storm of copies of few orders' notifications; each order must be granted once. */
export async function duplicates(ctx: Context): Promise<Measured & { notes: PreparedNotification[] }> {
  const methods: Method[] = ['wechat', 'alipay'];
  const orders = await inPool(
    Array.from({ length: ctx.cfg.dupOrders }, (_, i) => i),
    4,
    (i) => createOrder(ctx.appUrl, `${ctx.runId}-dup-${i}`, methods[i % 2]),
  );
  const notes = await prepare(ctx, orders);
  const { summary, cpu } = await fire(ctx, notes, ctx.cfg.dupConnections, ctx.cfg.dupRequests, 'duplicates');
  const check = await checkSettled(
    ctx.dbUrl,
    orders.map((o) => o.orderNo),
  );
  return { summary, cpu, check, notes };
}

/** 4. event delivery: from a notification's answer to the owner's socket.io client receiving order.paid. */
export async function events(ctx: Context): Promise<Measured> {
  const spec: EventsSpec = {
    url: ctx.appUrl,
    sandboxUrl: ctx.sandboxUrl,
    users: ctx.cfg.eventUsers,
    ordersPerUser: ctx.cfg.eventOrdersPerUser,
    concurrency: ctx.cfg.eventConcurrency,
    userPrefix: `${ctx.runId}-ws`,
    meter: ctx.meter,
  };
  const specPath = join(ctx.work, 'events.json');
  const outPath = join(ctx.work, 'events-out.json');
  writeFileSync(specPath, JSON.stringify(spec));
  await runTs('event client', 'events.ts', [specPath, outPath]);
  const out = JSON.parse(readFileSync(outPath, 'utf8')) as ({ available: false; reason: string } | ({ available: true } & Measurement)) &
    Record<string, unknown>;
  if (!out.available) return { note: out.reason };
  ctx.windows.push({ name: 'event delivery', ...out.window });
  const { summary, cpu, available: _a, window: _w, ...extra } = out;
  return { summary, cpu, extra };
}

/** 5. webhook delivery: from a notification's sending to a fast receiver's order.paid, beside a slow receiver. */
export async function webhooks(ctx: Context): Promise<Measured> {
  const spec: WebhooksSpec = {
    url: ctx.appUrl,
    sandboxUrl: ctx.sandboxUrl,
    orders: ctx.cfg.webhookOrders,
    concurrency: ctx.cfg.webhookConcurrency,
    slowMs: ctx.cfg.webhookSlowMs,
    userPrefix: `${ctx.runId}-wh`,
    meter: ctx.meter,
  };
  const specPath = join(ctx.work, 'webhooks.json');
  const outPath = join(ctx.work, 'webhooks-out.json');
  writeFileSync(specPath, JSON.stringify(spec));
  await runTs('webhook client', 'webhooks.ts', [specPath, outPath]);
  const out = JSON.parse(readFileSync(outPath, 'utf8')) as { available: true } & Measurement & Record<string, unknown>;
  ctx.windows.push({ name: 'webhook delivery', ...out.window });
  const { summary, cpu, available: _a, window: _w, ...extra } = out;
  return { summary, cpu, extra };
}
