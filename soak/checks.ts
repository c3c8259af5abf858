// What must hold at the end, as a table: each check is one line of the report and fails the run when
// broken. They read the soak's database, the sandbox's own view (its bills: what the providers say
// moved), what the members' sockets heard, and what the run recorded. A new check is one more entry.
import type { Client } from 'pg';
import { ledgerViolations } from '../test/support/invariants';
import type { ServerError } from './client';
import type { Member } from './load';

const PAID = `('paid', 'partially_refunded', 'refunded')`;
const GRANTED = `('paid', 'partially_refunded')`;

export interface BillRow {
  kind: 'payment' | 'refund';
  out_trade_no: string;
  out_refund_no: string | null;
  amount_fen: number;
  refund_status: string | null;
}

export interface Window {
  kind: string;
  from: number;
  to: number;
}

export interface CheckContext {
  db: Client;
  /** Both providers' bill rows of every Beijing day the run touched. */
  bills: { wechat: BillRow[]; alipay: BillRow[] };
  members: Member[];
  serverErrors: ServerError[];
  windows: Window[];
  reconciliation: { exitCode: number | null; output: string };
  instances: {
    name: string;
    unexpectedExits: string[];
    logProblems: string[];
    rssWarmMb: number;
    rssEndMb: number;
    /** How long the instance ran between its warm figure and its end figure. */
    warmForMs: number;
  }[];
}

export interface CheckResult {
  ok: boolean;
  /** One line: the figures the verdict rests on. */
  detail: string;
  /** Up to a few offending items, for the report. */
  examples?: unknown[];
}

export interface Check {
  name: string;
  run(ctx: CheckContext): Promise<CheckResult>;
}

const sample = (items: unknown[]) => items.slice(0, 10);

/**
 * A leak grows memory with the time run; a short span mostly shows the heap still settling after
 * warm-up (the JIT, pools, caches filling up: an instance restarted under the two-minute run's load
 * grew by a quarter in its last minute, and has stayed flat over half an hour). Over less than
 * SHORT_SPAN_MS an instance may grow by half its warm figure, which still catches a leak of a few
 * kilobytes per request; over a long run only 20%.
 */
const SHORT_SPAN_MS = 10 * 60_000;
export function memoryAllowanceMb(warmMb: number, warmForMs: number): number {
  return Math.floor(warmMb * (warmForMs < SHORT_SPAN_MS ? 0.5 : 0.2));
}

/** The payments the providers made: bill rows of kind payment (a double payment is two of them). */
const providerPayments = (ctx: CheckContext) => [...ctx.bills.wechat, ...ctx.bills.alipay].filter((r) => r.kind === 'payment');

/** Refunds that moved money: Alipay's bill lists only those; WeChat Pay's shows each refund's state. */
const providerRefunds = (ctx: CheckContext) => [
  ...ctx.bills.wechat.filter((r) => r.kind === 'refund' && r.refund_status === 'SUCCESS'),
  ...ctx.bills.alipay.filter((r) => r.kind === 'refund'),
];

export const CHECKS: Check[] = [
  {
    name: 'every order the sandbox says was paid is paid (or refunded) with exactly one grant',
    async run(ctx) {
      const paid = providerPayments(ctx);
      const { rows } = await ctx.db.query<{ payment_no: string; order_no: string; status: string; grants: number }>(
        `SELECT r.payment_no, o.order_no, o.status, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants
           FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE r.payment_no = ANY($1)`,
        [paid.map((p) => p.out_trade_no)],
      );
      const byNo = new Map(rows.map((r) => [r.payment_no, r]));
      const bad = paid
        .map((p) => ({ payment_no: p.out_trade_no, ...byNo.get(p.out_trade_no) }))
        .filter((r) => !r.status || !['paid', 'partially_refunded', 'refunded'].includes(r.status) || r.grants !== 1);
      return {
        ok: bad.length === 0,
        detail: `${paid.length} provider payments, ${bad.length} without a paid order holding one grant`,
        examples: sample(bad),
      };
    },
  },
  {
    name: 'no order is paid without a provider payment',
    async run(ctx) {
      const made = new Set(providerPayments(ctx).map((p) => p.out_trade_no));
      const { rows } = await ctx.db.query<{ order_no: string; payment_no: string | null }>(
        `SELECT o.order_no, r.payment_no FROM orders o
           LEFT JOIN payment_records r ON r.order_id = o.id AND r.status = 'success'
          WHERE o.status IN ${PAID}`,
      );
      const bad = rows.filter((r) => !r.payment_no || !made.has(r.payment_no));
      const orders = new Set(rows.map((r) => r.order_no)).size;
      return {
        ok: bad.length === 0,
        detail: `${orders} paid orders, ${bad.length} successful attempts the providers never paid`,
        examples: sample(bad),
      };
    },
  },
  {
    name: 'no grant without a paid order',
    async run(ctx) {
      const { rows } = await ctx.db.query(
        `SELECT g.id, o.order_no, o.status, g.revoked_at FROM membership_grants g LEFT JOIN orders o ON o.id = g.order_id
          WHERE o.id IS NULL OR o.status NOT IN ${PAID} OR (g.revoked_at IS NULL AND o.status NOT IN ${GRANTED})
             OR (g.revoked_at IS NOT NULL AND o.status <> 'refunded')`,
      );
      const { rows: n } = await ctx.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM membership_grants`);
      return {
        ok: rows.length === 0,
        detail: `${n[0].n} grants, ${rows.length} without a paid order (standing) or a refunded one (revoked)`,
        examples: sample(rows),
      };
    },
  },
  {
    name: "every member's ledger equals the ledger rebuilt from their standing grants",
    async run(ctx) {
      const bad = await ledgerViolations(ctx.db);
      const {
        rows: [n],
      } = await ctx.db.query<{ n: number }>('SELECT count(DISTINCT user_id)::int AS n FROM membership_grants WHERE revoked_at IS NULL');
      return {
        ok: bad.length === 0,
        detail: `${n.n} members, ${bad.length} whose stored periods differ from the rebuild`,
        examples: sample(bad),
      };
    },
  },
  {
    name: 'the value granted never exceeds the value paid (per member)',
    async run(ctx) {
      // Granted: the price of every order whose grant stands; paid: what the providers took for those
      // orders (their first successful payment; a double payment's second one is refunded by itself).
      const { rows } = await ctx.db.query(
        `WITH granted AS (
           SELECT o.user_id, o.id, o.amount FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE g.revoked_at IS NULL),
         paid AS (
           SELECT r.order_id, r.amount FROM payment_records r JOIN orders o ON o.id = r.order_id AND o.payment_no = r.payment_no
            WHERE r.status = 'success')
         SELECT g.user_id, sum(g.amount)::bigint AS granted, coalesce(sum(p.amount), 0)::bigint AS paid
           FROM granted g LEFT JOIN paid p ON p.order_id = g.id GROUP BY g.user_id
         HAVING sum(g.amount) > coalesce(sum(p.amount), 0)`,
      );
      const { rows: days } = await ctx.db.query(
        `WITH held AS (SELECT user_id, level, sum(EXTRACT(EPOCH FROM ends_at - starts_at) * 1000)::bigint AS ms FROM membership_periods GROUP BY user_id, level),
         bought AS (SELECT user_id, level, sum(ms)::bigint AS ms FROM (
             SELECT user_id, level, duration_ms - withdrawn_ms AS ms FROM membership_grants WHERE revoked_at IS NULL AND kind <> 'upgrade'
             UNION ALL SELECT user_id, level, converted_ms FROM membership_grants WHERE revoked_at IS NULL AND kind = 'upgrade'
             UNION ALL SELECT user_id, upgrade_from_level, -converted_ms FROM membership_grants WHERE revoked_at IS NULL AND kind = 'upgrade'
           ) parts GROUP BY user_id, level)
         SELECT coalesce(h.user_id, b.user_id) AS user_id, coalesce(h.level, b.level) AS level, h.ms AS held, b.ms AS bought
           FROM held h FULL JOIN bought b ON b.user_id = h.user_id AND b.level = h.level
          WHERE coalesce(h.ms, 0) <> coalesce(b.ms, 0)`,
      );
      const { rows: shortfall } = await ctx.db.query(
        `SELECT order_id FROM membership_grants WHERE kind = 'upgrade'
            AND (converted_ms IS NULL OR converted_ms < 0 OR converted_ms > upgrade_quoted_ms
                 OR (revoked_at IS NULL AND converted_ms > upgrade_quoted_ms - withdrawn_ms))`,
      );
      const bad = [...rows, ...days, ...shortfall];
      return {
        ok: bad.length === 0,
        detail: `${rows.length} members granted more than they paid; ${days.length} member-levels holding other days than bought; ${shortfall.length} upgrades converting more than priced`,
        examples: sample(bad),
      };
    },
  },
  {
    name: 'refunded total ≤ paid for every order',
    async run(ctx) {
      const { rows } = await ctx.db.query(
        `SELECT o.order_no FROM orders o
          WHERE (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.order_id = o.id AND f.status IN ('processing', 'success', 'abnormal'))
              > (SELECT COALESCE(sum(pr.amount), 0) FROM payment_records pr WHERE pr.order_id = o.id AND pr.status = 'success')
             OR o.refunded_amount > o.amount
             OR EXISTS (SELECT 1 FROM payment_records pr WHERE pr.order_id = o.id AND pr.amount <
                  (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.payment_no = pr.payment_no AND f.status IN ('processing', 'success', 'abnormal')))`,
      );
      const { rows: n } = await ctx.db.query<{ n: number; fen: string }>(
        `SELECT count(*)::int AS n, coalesce(sum(amount), 0)::text AS fen FROM refunds WHERE status = 'success'`,
      );
      return {
        ok: rows.length === 0,
        detail: `${n[0].n} successful refunds (${n[0].fen} fen), ${rows.length} orders refunded beyond what was paid`,
        examples: sample(rows),
      };
    },
  },
  {
    name: 'every refund the sandbox made is recorded, and every recorded success was made',
    async run(ctx) {
      const made = providerRefunds(ctx);
      const { rows } = await ctx.db.query<{ refund_no: string; payment_no: string; amount: number; status: string }>(
        `SELECT refund_no, payment_no, amount, status FROM refunds`,
      );
      const ours = new Map(rows.map((r) => [r.refund_no, r]));
      const madeNos = new Set(made.map((m) => m.out_refund_no));
      const unrecorded = made.filter((m) => {
        const r = ours.get(m.out_refund_no ?? '');
        return !r || r.status !== 'success' || r.amount !== m.amount_fen || r.payment_no !== m.out_trade_no;
      });
      const unmade = rows.filter((r) => r.status === 'success' && !madeNos.has(r.refund_no));
      const open = rows.filter((r) => r.status === 'processing' || r.status === 'abnormal');
      return {
        ok: unrecorded.length === 0 && unmade.length === 0,
        detail: `${made.length} refunds at the providers, ${rows.filter((r) => r.status === 'success').length} recorded successes; ${unrecorded.length} made but not recorded as such, ${unmade.length} recorded but never made; ${open.length} still open here`,
        examples: sample([...unrecorded, ...unmade]),
      };
    },
  },
  {
    name: "every order.paid reached the member's socket at least once",
    async run(ctx) {
      const { rows } = await ctx.db.query<{ id: string; user_id: string; order_no: string; created_at: Date; published_at: Date | null }>(
        `SELECT e.id::text AS id, e.user_id, o.order_no, e.created_at, e.published_at
           FROM order_events e JOIN orders o ON o.id = e.order_id WHERE e.type = 'order.paid'`,
      );
      const byUser = new Map(ctx.members.map((m) => [m.id, m]));
      const missed = rows.filter((r) => !byUser.get(r.user_id)?.socket.heard.get(r.order_no)?.has('order.paid'));
      // Where each miss happened, for the diagnosis: while Redis was away (the instances then
      // catch their connections up from the outbox), or elsewhere. Either fails the check.
      const during = (t: Date, kind: string) =>
        ctx.windows.some((w) => w.kind === kind && t.getTime() >= w.from - 5_000 && t.getTime() <= w.to + 5_000);
      const redis = missed.filter((r) => during(r.created_at, 'redis'));
      const other = missed.filter((r) => !redis.includes(r));
      const reconnects = ctx.members.reduce((s, m) => s + m.socket.reconnects, 0);
      const explain = (r: (typeof rows)[number]) => {
        const m = byUser.get(r.user_id);
        const ids = (m?.socket.received ?? []).map((e) => e.id);
        return {
          ...r,
          near_a_kill: during(r.created_at, 'kill'),
          during_redis_outage: during(r.created_at, 'redis'),
          member_last_event_id: m?.socket.lastEventId,
          member_reconnects: m?.socket.reconnects,
          heard_ids_around: ids.filter((id) => Math.abs(Number(id) - Number(r.id)) < 50),
        };
      };
      return {
        ok: missed.length === 0,
        detail: `${rows.length} order.paid events, ${missed.length} never heard by their member (${redis.length} of them committed while Redis was stopped); ${reconnects} reconnects with lastEventId`,
        examples: sample([...other, ...redis].map(explain)),
      };
    },
  },
  {
    name: 'reconciliation of the day against the sandbox bills finds nothing open',
    async run(ctx) {
      const r = ctx.reconciliation;
      const summary = r.output
        .split('\n')
        .filter((l) => /^\w+ \d{4}-\d{2}-\d{2}:|^matched \d|OPEN/.test(l.trim()))
        .slice(0, 12);
      return {
        ok: r.exitCode === 0,
        detail: `reconcile exited ${r.exitCode}: ${summary.join(' | ')}`,
        examples: r.exitCode === 0 ? undefined : [r.output.slice(-3000)],
      };
    },
  },
  {
    name: 'no 5xx to a well-formed request, except while the database was cut (counted apart)',
    async run(ctx) {
      const inside = (e: ServerError, kind: string) => ctx.windows.some((w) => w.kind === kind && e.at >= w.from && e.at <= w.to);
      const dbCut = ctx.serverErrors.filter((e) => inside(e, 'db-cut'));
      const provider = ctx.serverErrors.filter(
        (e) => !inside(e, 'db-cut') && (e.code === 'PROVIDER_UNAVAILABLE' || e.code === 'PROVIDER_TIMEOUT') && inside(e, 'provider'),
      );
      const other = ctx.serverErrors.filter((e) => !dbCut.includes(e) && !provider.includes(e));
      return {
        ok: other.length === 0,
        detail: `${other.length} unexplained 5xx; apart: ${dbCut.length} while the database was cut, ${provider.length} 502/504 answering an injected provider fault`,
        examples: sample(other),
      };
    },
  },
  {
    name: 'no crash or unhandled rejection in the instance logs besides the injected kills',
    async run(ctx) {
      const bad = ctx.instances.flatMap((i) => [
        ...i.unexpectedExits.map((e) => `${i.name}: ${e}`),
        ...i.logProblems.map((l) => `${i.name}: ${l}`),
      ]);
      return { ok: bad.length === 0, detail: `${bad.length} crash(es) or unhandled error line(s)`, examples: sample(bad) };
    },
  },
  {
    name: `memory of each instance at the end within 20% of its memory after warm-up (50% over a span under ${SHORT_SPAN_MS / 60_000} min)`,
    async run(ctx) {
      const lines = ctx.instances.map((i) => ({
        name: i.name,
        warm: i.rssWarmMb,
        end: i.rssEndMb,
        minutes: Math.round(i.warmForMs / 6_000) / 10,
        allowedMb: memoryAllowanceMb(i.rssWarmMb, i.warmForMs),
      }));
      const bad = lines.filter((l) => !(l.warm > 0 && l.end - l.warm <= l.allowedMb));
      return {
        ok: bad.length === 0,
        detail: lines
          .map(
            (l) =>
              `${l.name} ${l.warm} → ${l.end} MB (${l.warm ? `${Math.round((l.end / l.warm - 1) * 100)}%` : 'n/a'} over ${l.minutes} min, ≤ +${l.allowedMb} MB)`,
          )
          .join(', '),
        examples: sample(bad),
      };
    },
  },
];
