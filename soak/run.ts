// `npm run soak -- [--minutes 30] [--seed N] [--instances 2] [--rate 40]`: a bad day in a few minutes.
// Instances of the built service share a database of the soak's own and a Redis server of its own,
// with the provider sandbox in this process; members load them at a steady rate while faults drawn
// from the seed hit the sandbox, the notifications, the database, Redis and the instances; then the
// run waits (bounded) for the system to settle and checks the books (checks.ts). The report goes to
// soak/results/<stamp>/ in Markdown and JSON; the exit status is 1 when a check failed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { beijingDayOf } from '../src/common/beijing-day';
import { memberpayEnv } from '../sandbox/env';
import { built, ROOT, run as runToEnd, stopAll } from '../bench/processes';
import { signToken } from '../bench/tokens';
import { freePort } from '../src/common/net';
import { readArgs, USAGE, type SoakArgs } from './args';
import { CHECKS, type BillRow, type CheckContext, type CheckResult, type Window } from './checks';
import { MemberSocket, Pacer, ServiceClient, Stats } from './client';
import {
  createDatabase,
  databaseUrl,
  dropDatabase,
  Instance,
  JWT_SECRET,
  migrate,
  RedisServer,
  SOAK_APP_NAME,
  startSoakSandbox,
  type Sandbox,
} from './environment';
import { FAULT_KINDS, faultSchedule, type DeliveryFault, type FaultContext, type ScheduledFault } from './faults';
import { LOAD_KINDS, type LoadContext, type Member } from './load';
import { rng } from './prng';
import { writeReport, type SoakReport } from './report';
import { eventually, sleep, within } from './wait';

const MB = 1024 * 1024;
const out = (line: string) => process.stdout.write(`${line}\n`);
const stamp = new Date()
  .toISOString()
  .replace(/\.\d+Z$/, '')
  .replace(/[-:]/g, '')
  .replace('T', '_');

/** The service's limits raised: one client address speaks for every member here. */
const SERVICE_ENV = {
  NODE_ENV: 'development',
  LOG_LEVEL: 'info',
  CREATE_ORDER_RATE_LIMIT: '10000',
  ORDER_ACTION_RATE_LIMIT: '10000',
  PUBLIC_RATE_LIMIT: '1000000',
  CALLBACK_RATE_LIMIT: '1000000',
  WS_CONNECTIONS_PER_USER: '100',
  // Orders left unpaid expire within the run.
  ORDER_EXPIRE_MINUTES: '2',
  QR_CODE_EXPIRE_MINUTES: '1',
};
/** Notification resends at 1/20 of the providers' schedule: WeChat Pay 0.75 s, 0.75 s, 1.5 s, 9 s …; Alipay 12 s, 30 s … */
const SANDBOX_TIME_SCALE = 0.05;
/** Lines of an instance's log that mean a crash, not an answer. */
const LOG_PROBLEM = /unhandled ?rejection|uncaught ?exception|UnhandledPromiseRejection|FATAL|Segmentation fault|heap out of memory/i;

async function main(args: SoakArgs): Promise<number> {
  const loadMs = Math.round(args.minutes * 60_000);
  const warmupMs = Math.min(60_000, Math.max(15_000, loadMs * 0.1));
  const resultsDir = join(ROOT, 'soak', 'results', `${stamp}_seed${args.seed}`);
  mkdirSync(resultsDir, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'memberpay-soak-'));
  const dbName = `memberpay_soak_${stamp.toLowerCase()}_${process.pid}`;
  const dbUrl = databaseUrl(dbName);
  out(
    `memberpay soak ${stamp}: seed ${args.seed}, ${args.minutes} min, ${args.instances} instances, ${args.rate} req/s, ${args.members} members`,
  );
  out(
    `  replay: npm run soak -- --minutes ${args.minutes} --seed ${args.seed} --instances ${args.instances} --rate ${args.rate} --members ${args.members}`,
  );
  out(`  results: ${resultsDir}`);

  const instances: Instance[] = [];
  let redis: RedisServer | undefined;
  let sandbox: Sandbox | undefined;
  let db: Client | undefined;
  const members: Member[] = [];
  const cleanup = async () => {
    for (const m of members) m.socket.close();
    await Promise.all(instances.map((i) => i.stop().catch(() => undefined)));
    await redis?.stop().catch(() => undefined);
    await db?.end().catch(() => undefined);
    await sandbox?.close().catch(() => undefined);
    await stopAll(5_000);
    if (!args.keep) await dropDatabase(dbName).catch((e: Error) => out(`could not drop ${dbName}: ${e.message}`));
    else out(`kept the database ${dbName}`);
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      out(`\n${signal}: stopping the soak's processes and dropping its database`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    // --- Setup ----------------------------------------------------------------------------------
    await createDatabase(dbName);
    await migrate(dbUrl, work);
    redis = new RedisServer(await freePort(), work);
    await redis.start();
    sandbox = await startSoakSandbox(join(work, 'sandbox-keys'), SANDBOX_TIME_SCALE);
    db = new Client({ connectionString: dbUrl, application_name: SOAK_APP_NAME });
    await db.connect();
    const serviceEnv = { ...SERVICE_ENV, DATA_DIR: work, DATABASE_URL: dbUrl, REDIS_URL: redis.url, JWT_SECRET };
    for (let i = 0; i < args.instances; i++) {
      instances.push(new Instance({ index: i, cwd: work, logDir: resultsDir, env: serviceEnv, sandbox }));
    }
    await Promise.all(instances.map((i) => i.start()));
    out(
      `  ${instances.map((i) => `${i.name} on ${i.port}`).join(', ')}; Redis on ${redis.port}; sandbox ${sandbox.url}; database ${dbName}`,
    );

    const stats = new Stats();
    const client = new ServiceClient(instances, new Pacer(args.rate), stats);
    const adminToken = signToken('soak-support', JWT_SECRET, 6 * 3600, { role: 'admin' });
    for (let i = 0; i < args.members; i++) {
      const id = `soak-${args.seed}-${i}`;
      const token = signToken(id, JWT_SECRET, 6 * 3600);
      members.push({ id, token, socket: new MemberSocket(client, token), rng: rng(args.seed, 100 + i), paid: [] });
    }
    await Promise.all(members.map((m) => m.socket.connect()));

    // --- Faults ---------------------------------------------------------------------------------
    const windows: Window[] = [];
    const deliveries: DeliveryFault[] = [];
    const injected: { at: number; kind: string; what: string }[] = [];
    const faultErrors: string[] = [];
    const outcomes = new Map<string, number>();
    const note = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    let reorderSecond = false;
    let stopping = false;
    const faultCtx: FaultContext = {
      sandbox,
      db,
      databaseName: dbName,
      instances,
      redis,
      armDelivery: (f) => deliveries.push(f),
      window: (kind, from, to) => {
        const w = { kind, from, to };
        windows.push(w);
        return w;
      },
      over: () => stopping,
      log: out,
    };
    const schedule: ScheduledFault[] = faultSchedule(args.seed, loadMs, warmupMs);
    writeFileSync(join(resultsDir, 'schedule.json'), JSON.stringify(schedule, null, 2));
    const t0 = Date.now();
    let faultsDone = false;
    const runFaults = async () => {
      // Disruptive faults one after the other, each at its time or when the one before is over;
      // the others at their time, alongside.
      let disruptive = Promise.resolve();
      const pending: Promise<void>[] = [];
      for (const f of schedule) {
        const kind = FAULT_KINDS.find((k) => k.name === f.kind)!;
        const inject = async () => {
          const wait = t0 + f.at - Date.now();
          if (wait > 0) await sleep(wait);
          try {
            const what = await kind.inject(faultCtx, rng(f.seed, 7));
            injected.push({ at: Date.now() - t0, kind: f.kind, what });
          } catch (e) {
            faultErrors.push(`${f.kind}: ${(e as Error).message}`);
          }
        };
        if (kind.disruptive) disruptive = disruptive.then(inject);
        else pending.push(inject());
      }
      await Promise.all([disruptive, ...pending]);
      faultsDone = true;
    };
    const faultsFinished = runFaults();

    // --- Load -----------------------------------------------------------------------------------
    const loadCtx: LoadContext = {
      client,
      sandboxUrl: sandbox.url,
      db,
      adminToken,
      takeDelivery: () => {
        if (reorderSecond) {
          reorderSecond = false;
          note('reordered pair: second (sent at once)');
          return undefined;
        }
        const f = deliveries.shift();
        if (f?.kind === 'reorder') reorderSecond = true;
        return f;
      },
      note,
    };
    const loadErrors: string[] = [];
    const memberLoop = async (m: Member) => {
      // Members start spread over the first seconds rather than all at once.
      await sleep(m.rng.int(0, 3000));
      while (!stopping) {
        const kind = m.rng.weighted(LOAD_KINDS);
        note(`action ${kind.name}`);
        try {
          await kind.run(loadCtx, m);
        } catch (e) {
          loadErrors.push(`${kind.name}: ${(e as Error).message}`);
        }
      }
    };
    const memberLoops = Promise.all(members.map(memberLoop));

    // Reconciliation of the day now and then, while money moves (the verdict is the one at the end).
    const reconcileEnv = {
      ...serviceEnv,
      ...memberpayEnv(sandbox.credentials, String(instances[0].port), { wechat: true, alipay: true }),
      PAYMENT_SANDBOX: '1',
    };
    const reconcile = async (day: string) => {
      try {
        const text = await runToEnd(
          'reconcile',
          process.execPath,
          [built('main.js').replace(/main\.js$/, 'reconciliation/reconcile.cli.js'), '--date', day],
          {
            cwd: work,
            env: reconcileEnv,
          },
        );
        return { exitCode: 0, output: text };
      } catch (e) {
        const m = /exited with (\d+)/.exec((e as Error).message);
        return { exitCode: m ? Number(m[1]) : null, output: (e as Error).message };
      }
    };
    // The provider finishes refunds it left processing a few seconds later, as a bank does.
    const settledRefunds: string[] = [];
    const refundLoop = (async () => {
      while (!stopping) {
        await sleep(3_000);
        settledRefunds.push(...(await settleLeftRefunds(db!, sandbox!.url).catch(() => [])));
      }
    })();
    const midRunReconciles: number[] = [];
    const reconcileEvery = Math.max(60_000, loadMs / 6);
    const reconcileLoop = (async () => {
      while (!stopping) {
        await sleep(Math.min(reconcileEvery, Math.max(0, t0 + loadMs - Date.now())));
        if (stopping || Date.now() - t0 >= loadMs) break;
        const r = await reconcile(beijingDayOf(new Date()));
        midRunReconciles.push(r.exitCode ?? -1);
        note(`reconcile during the load: exit ${r.exitCode}`);
      }
    })();

    // Memory: sampled every 5 s per incarnation of each instance; its warm figure is taken once it
    // has run through the warm-up.
    const warm = new Map<string, { start: number; mb: number; at: number }>();
    const upSince = new Map<string, { start: number; at: number }>();
    const sampleMemory = () => {
      for (const inst of instances) {
        if (!inst.up) continue;
        const since = upSince.get(inst.name);
        if (!since || since.start !== inst.starts) upSince.set(inst.name, { start: inst.starts, at: Date.now() });
        const s = upSince.get(inst.name)!;
        const w = warm.get(inst.name);
        if ((!w || w.start !== inst.starts) && Date.now() - Math.max(s.at, t0) >= warmupMs) {
          warm.set(inst.name, { start: inst.starts, mb: Math.round(inst.rss() / MB), at: Date.now() });
        }
      }
    };
    const progress = () => {
      const s = Math.round((Date.now() - t0) / 1000);
      const rate = stats.requests / Math.max(1, (Date.now() - t0) / 1000);
      const kinds = new Set(injected.map((i) => i.kind)).size;
      const line = `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] requests ${stats.requests} (${rate.toFixed(1)}/s) | faults ${injected.length}/${schedule.length} (${kinds}/${FAULT_KINDS.length} kinds) | 5xx ${stats.serverErrors.length} | connection errors ${stats.connectionErrors} | up ${instances.filter((i) => i.up).length}/${instances.length}${stats.stuck(30_000) ? ` | slow: ${stats.stuck(30_000)}` : ''}`;
      if (process.stdout.isTTY) process.stdout.write(`\r${line}\x1b[K`);
      else out(line);
    };
    const ticker = setInterval(() => {
      sampleMemory();
    }, 5_000);
    const printer = setInterval(progress, process.stdout.isTTY ? 1_000 : 15_000);

    // The load runs its length, and longer if scheduled faults are still under way.
    await eventually(loadMs + 600_000, () => Date.now() - t0 >= loadMs && faultsDone, 500);
    await faultsFinished;
    stopping = true;
    // Each member ends the action under way; one that never ends is a finding of its own.
    const membersDone = await Promise.race([memberLoops.then(() => true), sleep(240_000).then(() => false)]);
    if (!membersDone)
      loadErrors.push(`load actions still under way 240 s after the load ended; oldest request: ${stats.stuck(0) ?? 'none'}`);
    await reconcileLoop;
    await refundLoop;
    const loadEnded = Date.now();
    progress();
    clearInterval(printer);
    out('');
    out(`load over after ${((loadEnded - t0) / 1000).toFixed(0)} s: ${stats.requests} requests; ${injected.length} faults injected`);

    // --- Convergence ----------------------------------------------------------------------------
    const leftFaults = await fetch(`${sandbox.url}/sandbox/faults`).then((r) => r.json());
    await fetch(`${sandbox.url}/sandbox/faults`, { method: 'DELETE' });
    const days = [...new Set([beijingDayOf(new Date(t0)), beijingDayOf(new Date())])];
    const bills = async () => {
      const rows = { wechat: [] as BillRow[], alipay: [] as BillRow[] };
      for (const provider of ['wechat', 'alipay'] as const)
        for (const day of days) {
          const bill = (await fetch(`${sandbox!.url}/sandbox/bills/${provider}/${day}`).then((r) => r.json())) as { rows: BillRow[] };
          rows[provider].push(...bill.rows);
        }
      return rows;
    };
    const ctx: CheckContext = {
      db,
      bills: await bills(),
      members,
      serverErrors: stats.serverErrors,
      windows,
      reconciliation: { exitCode: null, output: '' },
      instances: [],
    };
    const moneyChecks = CHECKS.slice(0, 7);
    out('waiting for the system to settle (notifications resent, the active query, refunds finishing) …');
    const convergeMs = 300_000;
    const converged = await eventually(
      convergeMs,
      async () => {
        settledRefunds.push(...(await settleLeftRefunds(db!, sandbox!.url)));
        ctx.bills = await bills();
        const open = await db!.query(`SELECT count(*)::int AS n FROM refunds WHERE status IN ('processing', 'abnormal')`);
        if (open.rows[0].n > 0) return false;
        for (const c of moneyChecks) if (!(await c.run(ctx)).ok) return false;
        return true;
      },
      3_000,
    );
    out(`  ${converged ? 'settled' : 'NOT settled'} after ${((Date.now() - loadEnded) / 1000).toFixed(0)} s`);
    // Sockets: events still on their way, then one reconnect with lastEventId for whoever missed one.
    const heardAll = () => CHECKS[7].run(ctx).then((r) => r.ok);
    let socketsOk = await eventually(30_000, heardAll, 1_000);
    out(
      `  sockets: ${socketsOk ? 'every order.paid heard' : 'some order.paid not heard yet; reconnecting every member with its lastEventId'}`,
    );
    if (!socketsOk) {
      await within(60_000, Promise.all(members.map((m) => m.socket.reconnect())), []);
      socketsOk = await eventually(30_000, heardAll, 1_000);
      out(`  sockets after the reconnect: ${socketsOk ? 'every order.paid heard' : 'some order.paid never heard'}`);
    }
    out(`reconciling ${days.join(', ')} …`);
    const reconciliations = [];
    for (const day of days) reconciliations.push(await reconcile(day));
    ctx.reconciliation = {
      exitCode: Math.max(...reconciliations.map((r) => r.exitCode ?? 2)),
      output: reconciliations.map((r) => r.output).join('\n'),
    };
    out(`  reconcile exited ${ctx.reconciliation.exitCode}`);
    sampleMemory();
    const endMb = new Map(instances.map((i) => [i.name, Math.round(i.rss() / MB)]));
    const endAt = Date.now();
    clearInterval(ticker);
    clearInterval(printer);
    for (const m of members) m.socket.close();
    out('stopping the instances …');
    await Promise.all(instances.map((i) => i.stop()));
    ctx.instances = instances.map((i) => ({
      name: i.name,
      unexpectedExits: i.unexpectedExits,
      logProblems: readFileSync(i.logFile, 'utf8')
        .split('\n')
        .filter((l) => LOG_PROBLEM.test(l))
        .slice(0, 20),
      rssWarmMb: warm.get(i.name)?.mb ?? 0,
      rssEndMb: endMb.get(i.name) ?? 0,
      warmForMs: endAt - (warm.get(i.name)?.at ?? endAt),
    }));

    // --- Verdict --------------------------------------------------------------------------------
    const results: (CheckResult & { name: string })[] = [];
    for (const c of CHECKS) {
      try {
        results.push({ name: c.name, ...(await c.run(ctx)) });
      } catch (e) {
        results.push({ name: c.name, ok: false, detail: `the check itself failed: ${(e as Error).message}` });
      }
    }
    const faultsByKind = Object.fromEntries(FAULT_KINDS.map((k) => [k.name, injected.filter((i) => i.kind === k.name).length]));
    const missingKinds = Object.entries(faultsByKind)
      .filter(([, n]) => n === 0)
      .map(([k]) => k);
    if (missingKinds.length || faultErrors.length)
      results.push({
        name: 'every fault kind was injected',
        ok: false,
        detail: `not injected: ${missingKinds.join(', ') || 'none'}; errors: ${faultErrors.join('; ') || 'none'}`,
      });
    else
      results.push({
        name: 'every fault kind was injected',
        ok: true,
        detail: Object.entries(faultsByKind)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      });
    const report: SoakReport = {
      stamp,
      args,
      passed: results.every((r) => r.ok),
      loadSeconds: Math.round((loadEnded - t0) / 1000),
      settleSeconds: Math.round((Date.now() - loadEnded) / 1000),
      requests: stats.requests,
      requestRate: Math.round((stats.requests / ((loadEnded - t0) / 1000)) * 10) / 10,
      statuses: stats.table(),
      connectionErrors: stats.connectionErrors,
      unanswered: stats.unanswered,
      outcomes: Object.fromEntries([...outcomes].sort()),
      faultsByKind,
      faults: injected,
      faultErrors,
      leftFaults,
      settledRefunds,
      midRunReconciles,
      loadErrors: loadErrors.slice(0, 50),
      loadErrorCount: loadErrors.length,
      windows,
      checks: results,
      instances: ctx.instances.map((i) => ({ ...i, starts: instances.find((x) => x.name === i.name)!.starts })),
    };
    const files = writeReport(resultsDir, report);
    out('');
    for (const r of results) out(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}`);
    out(`\n${report.passed ? 'soak PASSED' : 'soak FAILED'} (seed ${args.seed}); report: ${files.join(', ')}`);
    return report.passed ? 0 : 1;
  } finally {
    await cleanup();
  }
}

/**
 * The provider side of "left processing": a refund still open here and at the sandbox is finished
 * there after a few seconds, as the bank eventually does; the service then learns it by notification
 * (WeChat Pay) or by its own query (Alipay).
 */
async function settleLeftRefunds(db: Client, sandboxUrl: string): Promise<string[]> {
  const { rows } = await db.query<{ refund_no: string; payment_no: string; payment_method: string }>(
    `SELECT refund_no, payment_no, payment_method FROM refunds WHERE status IN ('processing', 'abnormal') AND created_at < now() - interval '5 seconds'`,
  );
  const settled: string[] = [];
  for (const r of rows) {
    const view = await fetch(`${sandboxUrl}/sandbox/refunds/${r.refund_no}?out_trade_no=${r.payment_no}`).then(
      async (res) => (res.ok ? ((await res.json()) as { status?: string; refund_status?: string }) : null),
      () => null,
    );
    const state = String(view?.status ?? view?.refund_status ?? '');
    if (!view || /SUCCESS|CLOSED/i.test(state)) continue;
    const body =
      r.payment_method === 'wechat'
        ? { out_refund_no: r.refund_no }
        : { provider: 'alipay', out_trade_no: r.payment_no, out_request_no: r.refund_no };
    const res = await fetch(`${sandboxUrl}/sandbox/refunds/settle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.ok) settled.push(`${r.refund_no} (${state})`);
  }
  return settled;
}

let parsed: SoakArgs | null;
try {
  parsed = readArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
if (!parsed) {
  out(USAGE);
  process.exit(0);
}
main(parsed).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`soak failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
