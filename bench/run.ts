// `npm run bench`: the service from its production build on a fresh database of the machine's
// PostgreSQL, the sandbox, and autocannon, each in its own process; pgbench as the ceiling.
// Prints the table and writes bench/results/<timestamp>.json. Flags: --profile (the service's CPU
// profile, summarised per scenario), --trace-sql (round trips per transaction; slows it down).
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyCores, formatShares } from './cpu';
import { createDatabase, databaseUrl, dropDatabase, migrate, pgbench, PgbenchResult } from './database';
import { APP_DIR, Child, ROOT, start, startTs, stop, stopAll } from './processes';
import { summariseProfile } from './profile';
import { row, Row, table } from './report';
import type { SandboxReady } from './sandbox-process';
import { BenchConfig, Context, createOrders, duplicates, events, settle } from './scenarios';
import { BENCH_JWT_SECRET } from './tokens';

const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const CFG: BenchConfig = {
  createSeconds: num('BENCH_CREATE_SECONDS', 15),
  createConnections: num('BENCH_CREATE_CONNECTIONS', 16),
  warmupRequests: num('BENCH_WARMUP', 500),
  settleOrders: num('BENCH_SETTLE_ORDERS', 6_000),
  settleConnections: num('BENCH_SETTLE_CONNECTIONS', 16),
  dupOrders: num('BENCH_DUP_ORDERS', 10),
  dupRequests: num('BENCH_DUP_REQUESTS', 20_000),
  dupConnections: num('BENCH_DUP_CONNECTIONS', 16),
  eventUsers: num('BENCH_EVENT_USERS', 200),
  eventOrdersPerUser: num('BENCH_EVENT_ORDERS_PER_USER', 3),
  eventConcurrency: num('BENCH_EVENT_CONCURRENCY', 8),
  prepareConcurrency: 8,
};
/**
 * The service's rate limits, raised so that the load generator (one client address, a few users)
 * measures the request path rather than the limiter's refusals; the limiter itself still runs.
 */
const RATE_LIMITS = {
  CREATE_ORDER_RATE_LIMIT: '10000', ORDER_ACTION_RATE_LIMIT: '10000', PUBLIC_RATE_LIMIT: '1000000', CALLBACK_RATE_LIMIT: '1000000',
};
const PGBENCH = { scale: 10, clients: 8, threads: 2, seconds: num('BENCH_PGBENCH_SECONDS', 20) };

const flags = new Set(process.argv.slice(2));
const stamp = new Date().toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '_');
const benchDb = `memberpay_bench_${stamp}`;
const pgbenchDb = `memberpay_pgbench_${stamp}`;
const work = mkdtempSync(join(tmpdir(), 'memberpay-bench-'));
const log = (line: string) => process.stdout.write(`${line}\n`);

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await stopAll(10_000);
    for (const db of [benchDb, pgbenchDb]) await dropDatabase(db).catch((e: Error) => log(`could not drop ${db}: ${e.message}`));
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startSandbox(appPort: number): Promise<SandboxReady & { pid: number }> {
  const child = startTs('sandbox', 'sandbox-process.ts', [join(work, 'sandbox-keys'), String(appPort)], { ipc: true, env: { NODE_ENV: 'development' } });
  return new Promise((resolve, reject) => {
    child.proc.once('message', (m) => resolve({ ...(m as SandboxReady), pid: child.proc.pid! }));
    void child.exited.then((code) => reject(new Error(`sandbox exited with ${code}:\n${child.output()}`)));
  });
}

async function startService(env: Record<string, string>, nodeArgs: string[], port: number): Promise<Child> {
  const service = start('service', process.execPath, [...nodeArgs, join(APP_DIR, 'dist/main.js')], { cwd: work, env });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (service.proc.exitCode !== null) break;
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) return service;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the service did not start:\n${service.output().slice(-4000)}`);
}

async function main(): Promise<number> {
  const loadAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const busyAtStart = await busyCores();
  log(`memberpay bench ${stamp} (${cpus().length} cores, Node ${process.version}); work dir ${work}`);
  if (busyAtStart > 0.3) log(`  note: ${busyAtStart} cores already busy before starting: the machine is doing other work, figures will be lower`);
  log(`pgbench: scale ${PGBENCH.scale}, ${PGBENCH.clients} clients, ${PGBENCH.seconds} s …`);
  await createDatabase(pgbenchDb);
  const ceiling: PgbenchResult = await pgbench(pgbenchDb, PGBENCH);
  await dropDatabase(pgbenchDb);
  log(`  ${ceiling.tps.toFixed(0)} tps`);

  const dbUrl = databaseUrl(benchDb);
  const baseEnv = { NODE_ENV: 'development', DATA_DIR: work, JWT_SECRET: BENCH_JWT_SECRET };
  await createDatabase(benchDb);
  await migrate(dbUrl, baseEnv, work);
  const port = await freePort();
  const sandbox = await startSandbox(port);
  const profileDir = join(work, 'profile');
  const sqlTrace = join(work, 'sql-trace.json');
  const nodeArgs = [
    ...(flags.has('--profile') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
    ...(flags.has('--trace-sql') ? ['-r', require.resolve('ts-node/register/transpile-only'), '-r', join(ROOT, 'bench/trace-sql.ts')] : []),
  ];
  const service = await startService({
    ...baseEnv, ...sandbox.env, LOG_LEVEL: 'warn', ...RATE_LIMITS, DATABASE_URL: dbUrl, PORT: String(port),
    ...(flags.has('--trace-sql') ? { BENCH_SQL_TRACE_FILE: sqlTrace, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') } : {}),
  }, nodeArgs, port);
  log(`service on :${port} (node ${APP_DIR === ROOT ? '' : `${APP_DIR}/`}dist/main.js${nodeArgs.length ? ` ${nodeArgs.filter((a) => !a.includes('/')).join(' ')}` : ''}), sandbox at ${sandbox.url}`);

  const ctx: Context = {
    appUrl: `http://127.0.0.1:${port}`, sandboxUrl: sandbox.url, dbUrl, work, runId: stamp, cfg: CFG, windows: [], log,
    meter: { dbUrl, dbName: benchDb, servicePid: service.proc.pid!, sandboxPid: sandbox.pid },
  };
  const pause = () => new Promise((r) => setTimeout(r, 1000));
  log('1. create-order …');
  const created = await createOrders(ctx);
  await pause();
  log('2. settlement …');
  const settled = await settle(ctx, created.created);
  await pause();
  log('3. duplicate storm …');
  const dup = await duplicates(ctx);
  await pause();
  log('4. event delivery …');
  const ev = await events(ctx);

  await stop(service);
  const rows: Row[] = [
    row('create-order', ceiling.tps, created.summary),
    row('settlement', ceiling.tps, settled.summary, settled.check),
    row('duplicates', ceiling.tps, dup.summary, dup.check),
    row('event delivery', ceiling.tps, ev.summary, undefined, ev.note),
  ];
  const profiles = existsSync(profileDir) ? readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')) : [];
  const profile = profiles.length ? summariseProfile(join(profileDir, profiles[0]), ctx.windows) : undefined;
  const keptProfile = profiles.length ? join(tmpdir(), `memberpay-bench-${stamp}.cpuprofile`) : undefined;
  if (keptProfile) copyFileSync(join(profileDir, profiles[0]), keptProfile);
  const trace = existsSync(sqlTrace) ? JSON.parse(readFileSync(sqlTrace, 'utf8')) as Record<string, unknown> : undefined;

  log(`\n${table(rows, ceiling)}\n`);
  for (const r of rows) for (const sample of r.summary?.errorSamples ?? []) log(`  ${r.scenario} error: ${sample}`);
  const cpu = { 'create-order': created.cpu, settlement: settled.cpu, duplicates: dup.cpu, 'event delivery': ev.cpu };
  for (const [name, shares] of Object.entries(cpu)) if (shares) log(`  ${name}: ${formatShares(shares)}`);
  if (ev.extra && ev.summary) {
    const x = ev.extra as { connections: number; beforeAnswer: number; fromSend: { p50: number; p99: number } };
    log(`  event delivery: ${x.connections} socket.io clients; ${x.beforeAnswer} of ${ev.summary.ok} events arrived before the notification's answer (counted as 0 ms); from sending the notification: p50 ${x.fromSend.p50} ms, p99 ${x.fromSend.p99} ms`);
  }
  if (profile) {
    for (const w of profile) log(`  profile ${w.name}: ${w.busyMs} ms CPU of ${w.wallMs} ms; ${w.byArea.slice(0, 6).map((a) => `${a.name} ${a.percent}%`).join(', ')}`);
    log(`  CPU profile kept at ${keptProfile}`);
  }
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = JSON.stringify({
    stamp, appDir: APP_DIR, flags: [...flags], machine: { cores: cpus().length, cpu: cpus()[0]?.model, node: process.version }, config: CFG, pgbench: ceiling,
    busyCoresAtStart: busyAtStart, loadAverageAtStart: loadAtStart, loadAverageAtEnd: loadavg().map((l) => Number(l.toFixed(2))), cpu,
    rows, createdOrders: created.created.length, events: ev.extra, windows: ctx.windows, profile, profileFile: keptProfile, sqlTrace: trace,
  }, null, 2);
  writeFileSync(join(resultsDir, `${stamp}.json`), json);
  writeFileSync(join(resultsDir, 'latest.json'), json);
  log(`results: bench/results/${stamp}.json`);
  const failed = rows.filter((r) => !r.correct);
  if (failed.length) log(`BENCH FAILED: errors or wrong grants in ${failed.map((r) => r.scenario).join(', ')}`);
  return failed.length ? 1 : 0;
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
