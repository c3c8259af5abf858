// `npm run bench`: the service from its production build on a fresh database of the machine's
// PostgreSQL, the sandbox, and autocannon, each in its own process; pgbench as the ceiling.
// Prints the table and writes bench/results/<timestamp>.json. Flags: --profile (the service's CPU
// profile, summarised per scenario), --trace-sql (round trips per transaction; slows it down),
// --quick (every scenario, smaller), --renewals-only (only scenario 6, without pgbench).
import { cpus, loadavg, tmpdir } from 'node:os';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { freePort } from '../src/common/net';
import { busyCores, CpuShares, formatShares, residentBytes } from './cpu';
import { createDatabase, databaseUrl, dropDatabase, migrate, pgbench, PgbenchResult } from './database';
import { APP_DIR, built, Child, ROOT, start, startTs, stop, stopAll } from './processes';
import { costTargets, CostTarget } from './costs';
import { summariseProfile } from './profile';
import { row, Row, table } from './report';
import type { SandboxReady } from './sandbox-process';
import { FloorSpec } from './floor';
import {
  BenchConfig,
  Context,
  createOrders,
  duplicates,
  events,
  floor,
  history,
  Measured,
  membershipMe,
  settle,
  webhooks,
} from './scenarios';
import { renewals, RenewalsResult, renewalTargets } from './renewals';
import { round } from './stats';
import { BENCH_JWT_SECRET } from './tokens';

const flags = new Set(process.argv.slice(2));
/** `--quick`: every scenario, smaller (about two minutes): for paired before/after runs of a change. */
const QUICK = flags.has('--quick');
/** `--renewals-only`: the renewal scenario alone (no pgbench, no other scenario), e.g. while working on renewals. */
const RENEWALS_ONLY = flags.has('--renewals-only');
const num = (name: string, full: number, quick = full) => (process.env[name] ? Number(process.env[name]) : QUICK ? quick : full);
const CFG: BenchConfig = {
  createSeconds: num('BENCH_CREATE_SECONDS', 15, 5),
  createConnections: num('BENCH_CREATE_CONNECTIONS', 16),
  warmupRequests: num('BENCH_WARMUP', 500, 200),
  settleOrders: num('BENCH_SETTLE_ORDERS', 6_000, 1_200),
  settleConnections: num('BENCH_SETTLE_CONNECTIONS', 16),
  dupOrders: num('BENCH_DUP_ORDERS', 10),
  dupRequests: num('BENCH_DUP_REQUESTS', 20_000, 5_000),
  dupConnections: num('BENCH_DUP_CONNECTIONS', 16),
  eventUsers: num('BENCH_EVENT_USERS', 200, 50),
  eventOrdersPerUser: num('BENCH_EVENT_ORDERS_PER_USER', 3, 2),
  eventConcurrency: num('BENCH_EVENT_CONCURRENCY', 8),
  prepareConcurrency: 8,
  webhookOrders: num('BENCH_WEBHOOK_ORDERS', 2_000, 300),
  webhookConcurrency: num('BENCH_WEBHOOK_CONCURRENCY', 8),
  webhookSlowMs: num('BENCH_WEBHOOK_SLOW_MS', 500),
  historyMembers: num('BENCH_HISTORY_MEMBERS', 1_500, 400),
  historyGrants: num('BENCH_HISTORY_GRANTS', 120),
  meRequests: num('BENCH_ME_REQUESTS', 10_000, 3_000),
  floorOrders: num('BENCH_FLOOR_ORDERS', 3_000, 1_000),
};
/** Scenario 6: contracts due at once, and how many members sign at a time while they are set up. */
const RENEWAL_CONTRACTS = num('BENCH_RENEWAL_CONTRACTS', 5_000, 500);
const RENEWAL_SIGN_CONCURRENCY = num('BENCH_RENEWAL_SIGN_CONCURRENCY', 8);
/**
 * The service's rate limits, raised so that the load generator (one client address, a few users)
 * measures the request path rather than the limiter's refusals; the limiter itself still runs.
 */
const RATE_LIMITS = {
  CREATE_ORDER_RATE_LIMIT: '10000',
  ORDER_ACTION_RATE_LIMIT: '10000',
  PUBLIC_RATE_LIMIT: '1000000',
  CALLBACK_RATE_LIMIT: '1000000',
  WS_CONNECTIONS_PER_USER: '1000',
};
const PGBENCH = { scale: 10, clients: 8, threads: 2, seconds: num('BENCH_PGBENCH_SECONDS', 20, 8) };
const stamp = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, '')
  .replace(/[-:]/g, '')
  .replace('T', '_');
const benchDb = `memberpay_bench_${stamp}`;
const pgbenchDb = `memberpay_pgbench_${stamp}`;
/** The databases of the passes with several processes, dropped with the others. */
const extraDatabases: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'memberpay-bench-'));
const log = (line: string) => process.stdout.write(`${line}\n`);

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll(10_000);
    for (const db of [benchDb, pgbenchDb, ...extraDatabases])
      await dropDatabase(db).catch((e: Error) => log(`could not drop ${db}: ${e.message}`));
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
// A closed stdout (`npm run bench | head`) must not end the bench before it has cleaned up.
process.stdout.on('error', () => undefined);
process.once('uncaughtException', (e) => {
  log(`bench failed: ${e.stack ?? e.message}`);
  void cleanup().finally(() => process.exit(1));
});
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`\n${signal}: stopping the bench's processes and dropping its databases`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function startSandbox(appPort: number): Promise<SandboxReady & { pid: number }> {
  const child = startTs('sandbox', 'sandbox-process.ts', [join(work, 'sandbox-keys'), String(appPort)], {
    ipc: true,
    env: { NODE_ENV: 'development' },
  });
  return new Promise((resolve, reject) => {
    child.proc.once('message', (m) => resolve({ ...(m as SandboxReady), pid: child.proc.pid! }));
    void child.exited.then((code) => reject(new Error(`sandbox exited with ${code}:\n${child.output()}`)));
  });
}

/** The floor (bench/floor.ts) on the bench's database, with the sandbox's keys. */
async function startFloor(dbUrl: string, env: Record<string, string>): Promise<{ url: string; pid: number }> {
  const specPath = join(work, 'floor.json');
  writeFileSync(specPath, JSON.stringify({ dbUrl, env } satisfies FloorSpec));
  const child = startTs('floor', 'floor.ts', [specPath], { ipc: true, env: { NODE_ENV: 'production' } });
  return new Promise((resolve, reject) => {
    child.proc.once('message', (m) => resolve({ ...(m as { url: string }), pid: child.proc.pid! }));
    void child.exited.then((code) => reject(new Error(`floor exited with ${code}:\n${child.output()}`)));
  });
}

/** `--workers N`: the scenarios run once with one service process and once with N (Node cluster). */
function workersFlag(argv: string[]): number | undefined {
  const i = argv.findIndex((a) => a === '--workers' || a.startsWith('--workers='));
  if (i < 0) return undefined;
  const value = Number(argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error('--workers takes a whole number of processes');
  return value;
}

/** Starts the service; resolves with it and the time from spawning it to its first answer on /health. */
async function startService(
  env: Record<string, string>,
  nodeArgs: string[],
  appArgs: string[],
  port: number,
): Promise<{ service: Child; firstAnswerMs: number }> {
  const t0 = process.hrtime.bigint();
  const service = start('service', process.execPath, [...nodeArgs, built('main.js'), ...appArgs], { cwd: work, env });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.proc.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { service, firstAnswerMs: Number((process.hrtime.bigint() - t0) / 1_000_000n) };
    // Polled often: the time to the first answer is one of the figures.
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the service did not start:\n${service.output().slice(-4000)}`);
}

/**
 * What the scenario's CPU per request allows on this machine: its cores divided by what one
 * request cost all the processes it used (the service, PostgreSQL, the load generator, the
 * sandbox; other people's work left out). A throughput target above it cannot be met by this
 * code on this machine, however the service's processes are arranged.
 */
function machineBound(s: CpuShares, rps: number, ceiling: PgbenchResult): string | undefined {
  if (!(rps > 0) || !(s.machine > 0)) return undefined;
  const ms = (cores: number) => round((cores * 1000) / rps, 2);
  const used = s.service + s.postgres + s.loadGenerator + s.sandbox;
  const most = (cpus().length * rps) / used;
  return `CPU per request: service ${ms(s.service)} ms, PostgreSQL ${ms(s.postgres)} ms (pgbench's transaction: ${ceiling.postgresOwnMsPerTx} ms in PostgreSQL, ${ceiling.postgresMsPerTx} ms on the machine), load generator ${ms(s.loadGenerator)} ms, sandbox ${ms(s.sandbox)} ms; at that cost ${cpus().length} cores allow at most ${Math.round(most)} req/s (${round(most / ceiling.tps, 2)}× pgbench)`;
}

interface Pass {
  processes: number;
  rows: Row[];
  firstAnswerMs: number;
  cpu: Record<string, unknown>;
  events?: Record<string, unknown>;
  webhooks?: Record<string, unknown>;
  createdOrders: number;
  windows: Context['windows'];
  /** The one-process pass only: settlements for members with history, their /membership/me, and the floor. */
  history?: Measured & { written: { written: number; held: number } };
  me?: Measured;
  floor?: { settlement: Measured; duplicates: Measured };
  renewals?: RenewalsResult;
}

const MB = 1024 * 1024;

/** The service's environment: production build in development mode, the sandbox for both providers. */
function serviceEnv(sandbox: SandboxReady, dbUrl: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'development',
    DATA_DIR: work,
    JWT_SECRET: BENCH_JWT_SECRET,
    ...sandbox.env,
    LOG_LEVEL: 'warn',
    ...RATE_LIMITS,
    DATABASE_URL: dbUrl,
    PORT: String(port),
    ...extra,
  };
}

function contextFor(port: number, sandbox: SandboxReady & { pid: number }, dbName: string, servicePid: number, runId: string): Context {
  const dbUrl = databaseUrl(dbName);
  return {
    appUrl: `http://127.0.0.1:${port}`,
    sandboxUrl: sandbox.url,
    dbUrl,
    work,
    runId,
    cfg: CFG,
    windows: [],
    log,
    meter: { dbUrl, dbName, servicePid, sandboxPid: sandbox.pid },
  };
}

/** Scenario 6 as run: the CLI pass, the batch's times and rate, CPU per contract, its target lines. */
function printRenewals(r: RenewalsResult): boolean {
  const c = r.cpuMsPerContract;
  log(
    `  renewals: ${r.contracts} contracts due (signed in ${r.signSeconds} s, not measured), one CLI pass as of ${r.asOf}: ` +
      `the pass ${r.passSeconds} s, every cycle paid after ${r.settledSeconds} s, ${r.deductionsPerSecond} deductions/s`,
  );
  log(`  renewals: the CLI said: ${r.cliOutput.replace(/\n\s*/g, ' | ')}`);
  log(
    `  renewals: CPU per renewed contract: CLI ${c.cli} ms, service ${c.service} ms, PostgreSQL ${c.postgres} ms, sandbox ${c.sandbox} ms; other work on the machine ${c.otherCores} cores`,
  );
  const targets = renewalTargets(r);
  for (const t of targets) log(`    ${t.result.padEnd(4)}  ${t.what}: ${t.measured} (target ${t.target})`);
  return targets.every((t) => t.result === 'PASS');
}

/** `--renewals-only`: scenario 6 alone, on a fresh database with the sandbox; no pgbench, no table. */
async function renewalsOnly(): Promise<number> {
  const port = await freePort();
  const sandbox = await startSandbox(port);
  await createDatabase(benchDb);
  const dbUrl = databaseUrl(benchDb);
  await migrate(dbUrl, { NODE_ENV: 'development', DATA_DIR: work, JWT_SECRET: BENCH_JWT_SECRET }, work);
  const env = serviceEnv(sandbox, dbUrl, port);
  const { service } = await startService(env, [], [], port);
  log(`service on :${port}, sandbox at ${sandbox.url}`);
  log(`6. renewals: ${RENEWAL_CONTRACTS} contracts due, one pass …`);
  const ctx = contextFor(port, sandbox, benchDb, service.proc.pid!, `${stamp}-p1`);
  const r = await renewals(ctx, { contracts: RENEWAL_CONTRACTS, concurrency: RENEWAL_SIGN_CONCURRENCY, env });
  await stop(service);
  const ok = printRenewals(r);
  writeResults({ stamp, appDir: APP_DIR, flags: process.argv.slice(2), quick: QUICK, loadAverageAtEnd: loadavg(), renewals: r });
  if (!ok) log('BENCH FAILED: renewals');
  return ok ? 0 : 1;
}

function writeResults(result: Record<string, unknown>): void {
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = JSON.stringify(result, null, 2);
  writeFileSync(join(resultsDir, `${stamp}.json`), json);
  writeFileSync(join(resultsDir, 'latest.json'), json);
  log(`results: bench/results/${stamp}.json`);
}

async function main(): Promise<number> {
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const busyAtStart = await busyCores();
  const workers = workersFlag(process.argv.slice(2));
  if (RENEWALS_ONLY) {
    log(`memberpay bench ${stamp}, renewals only (${cpus().length} cores, Node ${process.version}); work dir ${work}`);
    if (busyAtStart > 0.3) log(`  note: ${busyAtStart} cores already busy before starting: the machine is doing other work`);
    return renewalsOnly();
  }
  log(`memberpay bench ${stamp} (${cpus().length} cores, Node ${process.version}); work dir ${work}`);
  if (busyAtStart > 0.3)
    log(`  note: ${busyAtStart} cores already busy before starting: the machine is doing other work, figures will be lower`);
  log(`pgbench: scale ${PGBENCH.scale}, ${PGBENCH.clients} clients, ${PGBENCH.seconds} s …`);
  await createDatabase(pgbenchDb);
  const ceiling: PgbenchResult = await pgbench(pgbenchDb, PGBENCH);
  await dropDatabase(pgbenchDb);
  log(
    `  ${ceiling.tps.toFixed(0)} tps; CPU per transaction outside pgbench ${ceiling.postgresMsPerTx} ms, in PostgreSQL's own processes ${ceiling.postgresOwnMsPerTx} ms`,
  );

  const baseEnv = { NODE_ENV: 'development', DATA_DIR: work, JWT_SECRET: BENCH_JWT_SECRET };
  const port = await freePort();
  const sandbox = await startSandbox(port);
  const profileDir = join(work, 'profile');
  const sqlTrace = join(work, 'sql-trace.json');
  const passes: Pass[] = [];
  for (const processes of workers && workers > 1 ? [1, workers] : [1]) {
    // A fresh database per pass, migrated as ops would; the profile and the SQL trace are of the one-process pass.
    const dbName = processes === 1 ? benchDb : `${benchDb}_w${processes}`;
    const dbUrl = databaseUrl(dbName);
    await createDatabase(dbName);
    if (processes > 1) extraDatabases.push(dbName);
    await migrate(dbUrl, baseEnv, work);
    const nodeArgs =
      processes > 1
        ? []
        : [
            ...(flags.has('--profile') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
            ...(flags.has('--trace-sql')
              ? ['-r', require.resolve('ts-node/register/transpile-only'), '-r', join(ROOT, 'bench/trace-sql.ts')]
              : []),
          ];
    const appArgs = processes > 1 ? ['--workers', String(processes)] : [];
    const env = serviceEnv(
      sandbox,
      dbUrl,
      port,
      processes === 1 && flags.has('--trace-sql') ? { BENCH_SQL_TRACE_FILE: sqlTrace, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') } : {},
    );
    const { service, firstAnswerMs } = await startService(env, nodeArgs, appArgs, port);
    log(
      `service on :${port} (node ${relative(ROOT, built('main.js')) || built('main.js')}${[...nodeArgs, ...appArgs].length ? ` ${[...nodeArgs, ...appArgs].filter((a) => !a.includes('/')).join(' ')}` : ''}), sandbox at ${sandbox.url}; first answer ${firstAnswerMs} ms after start`,
    );

    const ctx = contextFor(port, sandbox, dbName, service.proc.pid!, `${stamp}-p${processes}`);
    const rss = () => Math.round(residentBytes(service.proc.pid!) / MB);
    const pause = () => new Promise((r) => setTimeout(r, 1000));
    log(`1. create-order (${processes} process${processes > 1 ? 'es' : ''}) …`);
    const created = await createOrders(ctx);
    const rssCreate = rss();
    await pause();
    log('2. settlement …');
    const settled = await settle(ctx, created.created);
    const rssSettle = rss();
    await pause();
    log('3. duplicate storm …');
    const dup = await duplicates(ctx);
    const rssDup = rss();
    await pause();
    let hist: Awaited<ReturnType<typeof history>> | undefined;
    let me: Measured | undefined;
    let fl: Pass['floor'];
    const extraRows: Row[] = [];
    if (processes === 1) {
      log(`2b. settlement for members with ${CFG.historyGrants} grants …`);
      hist = await history(ctx);
      extraRows.push({
        ...row(`settlement (${CFG.historyGrants} grants)`, ceiling.tps, hist.summary, hist.check),
        processes,
        rssMb: rss(),
      });
      await pause();
      log(`2c. GET /membership/me for those members …`);
      me = await membershipMe(ctx, hist.userIds);
      extraRows.push({ ...row(`membership/me (${CFG.historyGrants} grants)`, ceiling.tps, me.summary), processes, rssMb: rss() });
      await pause();
      log('3b. the floor: settlement and duplicates …');
      const at = await startFloor(dbUrl, sandbox.env);
      fl = await floor(ctx, { url: at.url, meter: { ...ctx.meter, servicePid: at.pid } }, dup.notes);
      extraRows.push(
        { ...row('floor settlement', ceiling.tps, fl.settlement.summary, fl.settlement.check), processes },
        { ...row('floor duplicates', ceiling.tps, fl.duplicates.summary), processes },
      );
      await pause();
    }
    log('4. event delivery …');
    const ev = await events(ctx);
    const rssEvents = rss();
    await pause();
    log('5. webhook delivery …');
    const wh = await webhooks(ctx);
    const rssWebhooks = rss();
    let ren: RenewalsResult | undefined;
    if (processes === 1) {
      await pause();
      log(`6. renewals: ${RENEWAL_CONTRACTS} contracts due, one pass of the renewal CLI …`);
      // The CLI gets the service's environment, as an operator's one-shot command beside it would.
      ren = await renewals(ctx, { contracts: RENEWAL_CONTRACTS, concurrency: RENEWAL_SIGN_CONCURRENCY, env });
    }
    await stop(service);
    const withProcess = (r: Row, rssMb: number): Row => ({ ...r, processes, rssMb });
    passes.push({
      processes,
      history: hist,
      me,
      floor: fl,
      renewals: ren,
      firstAnswerMs,
      createdOrders: created.created.length,
      windows: ctx.windows,
      events: ev.extra,
      webhooks: wh.extra,
      cpu: {
        'create-order': created.cpu,
        settlement: settled.cpu,
        duplicates: dup.cpu,
        'event delivery': ev.cpu,
        'webhook delivery': wh.cpu,
        ...(hist ? { [`settlement (${CFG.historyGrants} grants)`]: hist.cpu } : {}),
        ...(me ? { [`membership/me (${CFG.historyGrants} grants)`]: me.cpu } : {}),
        ...(fl ? { 'floor settlement': fl.settlement.cpu, 'floor duplicates': fl.duplicates.cpu } : {}),
      },
      rows: [
        withProcess(row('create-order', ceiling.tps, created.summary), rssCreate),
        withProcess(row('settlement', ceiling.tps, settled.summary, settled.check), rssSettle),
        withProcess(row('duplicates', ceiling.tps, dup.summary, dup.check), rssDup),
        withProcess(row('event delivery', ceiling.tps, ev.summary, undefined, ev.note), rssEvents),
        withProcess(row('webhook delivery', ceiling.tps, wh.summary), rssWebhooks),
        ...extraRows,
      ],
    });
  }

  const rows = passes.flatMap((p) => p.rows);
  const first = passes[0];
  const profiles = existsSync(profileDir) ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const profile = profiles.length ? summariseProfile(join(profileDir, profiles[0]), first.windows) : undefined;
  const keptProfile = profiles.length ? join(tmpdir(), `memberpay-bench-${stamp}.cpuprofile`) : undefined;
  if (keptProfile) copyFileSync(join(profileDir, profiles[0]), keptProfile);
  const trace = existsSync(sqlTrace) ? (JSON.parse(readFileSync(sqlTrace, 'utf8')) as Record<string, unknown>) : undefined;

  const costs: CostTarget[] = costTargets(first, CFG.historyGrants, ceiling);
  log(`\n${table(rows, ceiling)}\n`);
  if (costs.length) {
    log('  cost targets (CPU per request from /proc, and memberpay ÷ floor in this run):');
    for (const c of costs) log(`    ${c.result.padEnd(4)}  ${c.what}: ${c.measured} (target ${c.target})`);
  }
  const renewalsOk = first.renewals ? printRenewals(first.renewals) : true;
  if (first.history)
    log(
      `  settlement (${CFG.historyGrants} grants): the settling transaction wrote ${first.history.written.written} of the ${first.history.written.held} periods each member holds after it`,
    );
  for (const p of passes)
    log(
      `  ${p.processes} process${p.processes > 1 ? 'es' : ''}: first answer ${p.firstAnswerMs} ms after start (goal < 1500 ms for one process: ${p.firstAnswerMs < 1500 ? 'PASS' : 'miss'})`,
    );
  for (const r of rows) for (const sample of r.summary?.errorSamples ?? []) log(`  ${r.scenario} (${r.processes}) error: ${sample}`);
  for (const p of passes) {
    for (const [name, shares] of Object.entries(p.cpu)) if (shares) log(`  ${name} (${p.processes}): ${formatShares(shares as CpuShares)}`);
    for (const r of p.rows) {
      const shares = p.cpu[r.scenario] as CpuShares | undefined;
      // Event and webhook delivery pace their notifications (a few in flight): their rate is not a capacity.
      const bound =
        shares && r.summary && r.scenario !== 'event delivery' && r.scenario !== 'webhook delivery'
          ? machineBound(shares, r.summary.rps, ceiling)
          : undefined;
      if (bound) log(`  ${r.scenario} (${p.processes}): ${bound}`);
    }
    const ev = p.rows.find((r) => r.scenario === 'event delivery')!;
    if (p.events && ev.summary) {
      const x = p.events as { connections: number; beforeAnswer: number; afterAnswer: { p50: number; p99: number } };
      log(
        `  event delivery (${p.processes}): ${x.connections} socket.io clients; ${x.beforeAnswer} of ${ev.summary.ok} events arrived before the notification's answer; after the answer (0 when before): p50 ${x.afterAnswer.p50} ms, p99 ${x.afterAnswer.p99} ms; the table's figures are from sending the notification`,
      );
    }
    const wh = p.rows.find((r) => r.scenario === 'webhook delivery');
    if (p.webhooks && wh?.summary) {
      const x = p.webhooks as {
        afterAnswer: { p50: number; p99: number };
        slowReceiver: { answerMs: number; receivedWhenFastDone: number; p50: number; p99: number };
      };
      log(
        `  webhook delivery (${p.processes}): fast receiver after the notification's answer p50 ${x.afterAnswer.p50} ms, p99 ${x.afterAnswer.p99} ms; the slow receiver (answers in ${x.slowReceiver.answerMs} ms) had ${x.slowReceiver.receivedWhenFastDone} of ${wh.summary.ok} when the fast one had all, and got them at p50 ${x.slowReceiver.p50} ms, p99 ${x.slowReceiver.p99} ms from sending`,
      );
    }
  }
  if (profile) {
    for (const w of profile)
      log(
        `  profile ${w.name}: ${w.busyMs} ms CPU of ${w.wallMs} ms; ${w.byArea
          .slice(0, 6)
          .map((a) => `${a.name} ${a.percent}%`)
          .join(', ')}`,
      );
    for (const w of profile) {
      const requests = first.rows.find((r) => r.scenario === w.name)?.summary?.requests;
      if (!requests) continue;
      const perRequest = (ms: number) => Math.round((1000 * ms) / requests);
      log(
        `  layers ${w.name}, µs of service CPU per request (${perRequest(w.busyMs)} in all): ${w.byLayer
          .map((l) => `${l.name} ${perRequest(l.ms)} (${l.percent}%)`)
          .join('; ')}`,
      );
    }
    log(`  CPU profile kept at ${keptProfile}`);
  }
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = JSON.stringify(
    {
      stamp,
      appDir: APP_DIR,
      flags: process.argv.slice(2),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version },
      config: CFG,
      quick: QUICK,
      costTargets: costs,
      historyWritten: first.history?.written,
      renewals: first.renewals,
      pgbench: ceiling,
      busyCoresAtStart: busyAtStart,
      loadAverageAtStart: loadAtStart,
      loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))),
      cpu: first.cpu,
      rows,
      firstAnswerMs: first.firstAnswerMs,
      passes: passes.map(({ processes, firstAnswerMs, cpu, events: ev, webhooks: wh, createdOrders }) => ({
        processes,
        firstAnswerMs,
        cpu,
        events: ev,
        webhooks: wh,
        createdOrders,
      })),
      createdOrders: first.createdOrders,
      events: first.events,
      windows: first.windows,
      profile,
      profileFile: keptProfile,
      sqlTrace: trace,
    },
    null,
    2,
  );
  writeFileSync(join(resultsDir, `${stamp}.json`), json);
  writeFileSync(join(resultsDir, 'latest.json'), json);
  log(`results: bench/results/${stamp}.json`);
  const failed = rows.filter((r) => !r.correct);
  if (failed.length) log(`BENCH FAILED: errors or wrong grants in ${failed.map((r) => `${r.scenario} (${r.processes})`).join(', ')}`);
  if (!renewalsOk) log('BENCH FAILED: renewals (see the lines above)');
  return failed.length || !renewalsOk ? 1 : 0;
}

main().then(
  (code) => cleanup().then(() => process.exit(code)),
  (e: Error) => {
    // Interrupted: the signal handler cleans up and exits; the children it stopped made this error.
    if (interrupted) return undefined;
    log(`bench failed: ${e.stack ?? e.message}`);
    return cleanup().then(() => process.exit(1));
  },
);
