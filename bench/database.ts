// The machine's PostgreSQL: the bench's own databases (created fresh, always dropped), the
// migrations, pgbench as the ceiling, and the checks on what the scenarios left behind.
import { join } from 'node:path';
import { Client } from 'pg';
import { CpuMeter, machineTicks, pidTicks, Snapshot, TICKS_PER_SECOND } from './cpu';
import { built, finished, ROOT, run, start } from './processes';
import { round } from './stats';

export const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The machine's PostgreSQL seen through its admin URL: databases of one's own (made and dropped) and
 * connections named `applicationName`, so that one's own connections can be told apart from the
 * service's (the soak cuts the service's only). The bench and the soak each make one.
 */
export function databaseAdmin(adminUrl: string, applicationName: string) {
  const withClient = async <T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: url, application_name: applicationName });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  const ident = (name: string) => {
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unexpected database name ${name}`);
    return `"${name}"`;
  };
  return {
    withClient,
    databaseUrl(name: string): string {
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    createDatabase: (name: string) => withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${ident(name)}`)).then(() => undefined),
    dropDatabase: (name: string) =>
      withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`)).then(() => undefined),
  };
}

const admin = databaseAdmin(ADMIN_URL, 'memberpay-bench');
export const { databaseUrl, createDatabase, dropDatabase } = admin;
const withClient = admin.withClient;

/** The migrations as ops run them, from the build (no ts-node). */
export async function migrate(url: string, env: Record<string, string>, cwd: string): Promise<void> {
  await run('migrations', process.execPath, [join(ROOT, 'node_modules/typeorm/cli.js'), 'migration:run', '-d', built('data-source.js')], {
    cwd,
    env: { ...env, DATABASE_URL: url },
  });
}

export interface PgbenchResult {
  tps: number;
  scale: number;
  clients: number;
  threads: number;
  seconds: number;
  latencyAvgMs: number;
  /**
   * CPU of one pgbench transaction outside pgbench itself, in ms: the machine's busy time during the
   * run less pgbench's own, per transaction (PostgreSQL, and anything else running then).
   */
  postgresMsPerTx: number;
  /**
   * The same from PostgreSQL's processes only (pgbench's backends and the server's background
   * processes, from /proc, as the scenarios' "PostgreSQL" share is read): other work on a shared
   * machine does not count in it. The cost targets compare with this one.
   */
  postgresOwnMsPerTx: number;
}

/** pgbench's default (TPC-B-like) transaction on its own database: what this PostgreSQL can do. */
export async function pgbench(
  database: string,
  opts: { scale: number; clients: number; threads: number; seconds: number },
): Promise<PgbenchResult> {
  const url = new URL(ADMIN_URL);
  const conn = ['-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username || 'postgres')];
  const env: Record<string, string> = url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {};
  const bin = process.env.BENCH_PGBENCH ?? '/usr/bin/pgbench';
  await run('pgbench -i', bin, [...conn, '-i', '-q', '-s', String(opts.scale), database], { env });
  const before = machineTicks();
  const child = start(
    'pgbench',
    bin,
    [...conn, '-c', String(opts.clients), '-j', String(opts.threads), '-T', String(opts.seconds), database],
    {
      env,
    },
  );
  // pgbench's own CPU, read until it exits (its /proc entry goes with it): a quarter second at most is lost.
  let clientTicks = 0;
  const poll = setInterval(() => (clientTicks = Math.max(clientTicks, pidTicks(child.proc.pid!))), 250);
  // Its backends' CPU, read the same way until they end with it: the last reading and its time count.
  const meter = new CpuMeter({ dbUrl: databaseUrl(database), dbName: database, servicePid: child.proc.pid!, sandboxPid: -1 });
  const first = await meter.snapshot();
  let last: Snapshot | undefined;
  let reading = true;
  const readBackends = (async () => {
    while (reading) {
      await new Promise((r) => setTimeout(r, 500));
      if (!reading) break;
      const s = await meter.snapshot().catch(() => undefined);
      if (s && child.proc.exitCode === null) last = s;
    }
  })();
  const out = await finished(child).finally(() => {
    clearInterval(poll);
    reading = false;
  });
  await readBackends;
  const after = machineTicks();
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out) ?? /tps = ([\d.]+)/.exec(out);
  const latency = /latency average = ([\d.]+) ms/.exec(out);
  if (!tps) throw new Error(`could not read tps from pgbench:\n${out}`);
  const transactions = /number of transactions actually processed: (\d+)/.exec(out);
  const tickMs = 1000 / TICKS_PER_SECOND;
  const postgresMs = Math.max(0, (after.busy - before.busy - clientTicks) * tickMs);
  const own = last ? meter.shares(first, last, 0).postgres : Number.NaN;
  return {
    ...opts,
    postgresOwnMsPerTx: round((own * 1000) / Number(tps[1]), 3),
    tps: Number(tps[1]),
    latencyAvgMs: latency ? Number(latency[1]) : Number.NaN,
    postgresMsPerTx: transactions && process.platform === 'linux' ? round(postgresMs / Number(transactions[1]), 3) : Number.NaN,
  };
}

/** What the settled orders left in the database: every one paid and granted once. */
export interface SettlementCheck {
  orders: number;
  paid: number;
  grants: number;
  /** Orders with more than one grant row, or members whose ledger holds more days than their paid orders bought. */
  doubleGrants: number;
}

export async function checkSettled(url: string, orderNos: string[]): Promise<SettlementCheck> {
  return withClient(url, async (c) => {
    const {
      rows: [row],
    } = await c.query<{ paid: string; grants: string; multi: string; extended: string }>(
      `
      WITH o AS (SELECT id, user_id, status FROM orders WHERE order_no = ANY($1::varchar[])),
           g AS (SELECT order_id, count(*) AS n FROM membership_grants WHERE order_id IN (SELECT id FROM o) GROUP BY order_id)
      SELECT (SELECT count(*) FROM o WHERE status = 'paid') AS paid,
             (SELECT coalesce(sum(n), 0) FROM g) AS grants,
             (SELECT count(*) FROM g WHERE n > 1) AS multi,
             (SELECT count(*) FROM (
                SELECT p.user_id FROM membership_periods p
                 WHERE p.user_id IN (SELECT user_id FROM o)
                 GROUP BY p.user_id
                HAVING sum(p.ends_at - p.starts_at) > (SELECT sum(make_interval(days => pl.duration_days))
                  FROM orders x JOIN membership_plans pl ON pl.id = x.product_id WHERE x.user_id = p.user_id AND x.status = 'paid')) over) AS extended`,
      [orderNos],
    );
    return {
      orders: orderNos.length,
      paid: Number(row.paid),
      grants: Number(row.grants),
      doubleGrants: Number(row.multi) + Number(row.extended),
    };
  });
}

/**
 * Gives each member `grants` months of history before their pending order: that many paid monthly
 * orders (plan 1, 30 days), one every 30 days, with their grants and periods as the ledger lays
 * them out (each month starts when the one before ends; the last one runs now and ends in 15 days).
 * Written directly, as years of renewals would have left them (times in whole milliseconds, as the
 * service writes them), then vacuumed and analysed, as a database that grew to this size over years
 * would be: the scenario measures the settlement that follows, not how the history came to be (nor
 * the autovacuum that a bulk insert of this size sets off within the minute, which would otherwise
 * run during the scenario and be counted as its PostgreSQL CPU).
 */
export async function seedHistory(url: string, userIds: string[], grants: number): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(
      `WITH months AS (
         SELECT u.user_id, i, date_trunc('milliseconds', now()) - make_interval(days => 30 * ($2::int - 1 - i) + 15) AS at
           FROM unnest($1::varchar[]) AS u(user_id) CROSS JOIN generate_series(0, $2::int - 1) AS i),
       ordered AS (
         INSERT INTO orders (order_no, user_id, product_type, product_id, amount, description, status, payment_method,
                             expire_at, paid_at, created_at, updated_at)
         SELECT 'H' || substr(md5(user_id), 1, 20) || lpad(i::text, 4, '0'), user_id, 'membership', 1, pl.price, 'history',
                'paid', 'wechat', at + interval '2 hours', at, at, at
           FROM months CROSS JOIN (SELECT price FROM membership_plans WHERE id = 1) pl
         RETURNING id, user_id, paid_at),
       granted AS (
         INSERT INTO membership_grants (order_id, user_id, plan_id, kind, level, duration_ms, granted_at, created_at)
         SELECT id, user_id, 1, 'add', 1, 30::bigint * 86400000, paid_at, paid_at FROM ordered
         RETURNING id, order_id, user_id, granted_at)
       INSERT INTO membership_periods (user_id, grant_id, order_id, plan_id, level, starts_at, ends_at)
       SELECT user_id, id, order_id, 1, 1, granted_at, granted_at + interval '30 days' FROM granted`,
      [userIds, grants],
    );
    await c.query('VACUUM ANALYZE orders, membership_grants, membership_periods');
    await c.query('CHECKPOINT');
  });
}

/**
 * Of the members' periods, how many the transaction of their latest grant wrote (its xmin), per
 * member on average, beside how many periods they have: what their last settlement touched.
 */
export async function periodsWrittenByLastGrant(url: string, userIds: string[]): Promise<{ written: number; held: number }> {
  return withClient(url, async (c) => {
    const {
      rows: [r],
    } = await c.query<{ written: string; held: string }>(
      `WITH last AS (
         SELECT DISTINCT ON (user_id) user_id, xmin::text AS tx FROM membership_grants
          WHERE user_id = ANY($1::varchar[]) ORDER BY user_id, granted_at DESC)
       SELECT avg(w)::numeric(10, 2) AS written, avg(n)::numeric(10, 2) AS held FROM (
         SELECT l.user_id, count(*) FILTER (WHERE p.xmin::text = l.tx) AS w, count(*) AS n
           FROM last l JOIN membership_periods p ON p.user_id = l.user_id GROUP BY l.user_id) x`,
      [userIds],
    );
    return { written: Number(r.written), held: Number(r.held) };
  });
}

/** How many of the members' auto-renewal contracts are active with their first order paid (signing done). */
export async function signedContracts(url: string, userIds: string[]): Promise<number> {
  return withClient(url, async (c) => {
    const {
      rows: [r],
    } = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM contracts c JOIN orders o ON o.id = c.first_order_id
        WHERE c.user_id = ANY($1::varchar[]) AND c.status = 'active' AND o.status = 'paid'`,
      [userIds],
    );
    return Number(r.n);
  });
}

/** T of each member: the end of the paid time their first (signing) order bought, earliest and latest. */
export async function paidEnds(url: string, userIds: string[]): Promise<{ first: Date; last: Date }> {
  return withClient(url, async (c) => {
    const {
      rows: [r],
    } = await c.query<{ first: Date; last: Date }>(
      `SELECT min(p.ends_at) AS first, max(p.ends_at) AS last FROM contracts c JOIN membership_periods p ON p.order_id = c.first_order_id
        WHERE c.user_id = ANY($1::varchar[])`,
      [userIds],
    );
    return r;
  });
}

/** Contracts whose first renewal cycle is paid (the renewal scenario waits for the last WeChat callback). */
export async function renewedContracts(url: string, userIds: string[]): Promise<number> {
  return withClient(url, async (c) => {
    const {
      rows: [r],
    } = await c.query<{ n: string }>(
      `SELECT count(*) AS n FROM contracts c JOIN renewal_cycles rc ON rc.contract_id = c.id AND rc.cycle = 1
        WHERE c.user_id = ANY($1::varchar[]) AND rc.status = 'paid'`,
      [userIds],
    );
    return Number(r.n);
  });
}

/** What one renewal pass left behind, for contracts due at T (the end of the period their first order bought). */
export interface RenewalCheck {
  contracts: number;
  /** Cycles paid, and successful deductions of renewal orders. */
  paidCycles: number;
  deductions: number;
  /** Cycles charged more than once, contracts charged more than once in the pass (it runs one cycle), or cycles numbered twice. */
  doubleCharges: number;
  /** Contracts due with no period of their renewal order starting exactly at T. */
  missingPeriods: number;
}

export async function checkRenewals(url: string, userIds: string[]): Promise<RenewalCheck> {
  return withClient(url, async (c) => {
    const {
      rows: [r],
    } = await c.query<Record<keyof Omit<RenewalCheck, 'contracts'> | 'contracts', string>>(
      `WITH k AS (
         SELECT c.id, p.ends_at AS t FROM contracts c JOIN membership_periods p ON p.order_id = c.first_order_id
          WHERE c.user_id = ANY($1::varchar[])),
       cyc AS (SELECT rc.* FROM renewal_cycles rc JOIN k ON k.id = rc.contract_id),
       -- Every successful payment of a cycle's order is a charge, whatever path it came by (a deduction carries
       -- the provider's contract reference in contract_id).
       paid AS (
         SELECT pr.order_id, cyc.contract_id, pr.contract_id IS NOT NULL AS deduction FROM payment_records pr
           JOIN cyc ON cyc.order_id = pr.order_id WHERE pr.status = 'success')
       SELECT (SELECT count(*) FROM k) AS contracts,
              (SELECT count(*) FROM cyc WHERE status = 'paid') AS "paidCycles",
              (SELECT count(*) FROM paid WHERE deduction) AS deductions,
              (SELECT count(*) FROM (SELECT order_id FROM paid GROUP BY order_id HAVING count(*) > 1) x)
            + (SELECT count(*) FROM (SELECT contract_id FROM paid GROUP BY contract_id HAVING count(*) > 1) x)
            + (SELECT count(*) FROM (SELECT contract_id, cycle FROM cyc GROUP BY contract_id, cycle HAVING count(*) > 1) x) AS "doubleCharges",
              (SELECT count(*) FROM k WHERE NOT EXISTS (
                 SELECT 1 FROM cyc JOIN membership_periods p ON p.order_id = cyc.order_id
                  WHERE cyc.contract_id = k.id AND cyc.cycle = 1 AND cyc.due_at = k.t AND p.starts_at = k.t)) AS "missingPeriods"`,
      [userIds],
    );
    return {
      contracts: Number(r.contracts),
      paidCycles: Number(r.paidCycles),
      deductions: Number(r.deductions),
      doubleCharges: Number(r.doubleCharges),
      missingPeriods: Number(r.missingPeriods),
    };
  });
}
