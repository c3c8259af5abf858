import type { Client } from 'pg';
import { buildLedger } from '../../src/membership/membership-ledger';
import { toLedgerGrant } from '../../src/membership/membership.service';

/**
 * The invariants no test may break. Each query returns the rows that violate one;
 * an empty result everywhere means the books are straight.
 */
/** Orders that were paid: a refund (partial or full) comes after payment. */
const PAID = `('paid', 'partially_refunded', 'refunded')`;
/** Orders whose membership stands: a full refund takes it away (unless support kept it: a concession). */
const GRANTED = `('paid', 'partially_refunded')`;
/** The order's refunds that change it: support's and an upgrade's shortfall (a double payment's do not). */
const ORDER_REFUND = `f.kind IN ('support', 'upgrade_shortfall')`;
/** A refunded order whose membership support kept. */
const KEPT = (o: string) =>
  `EXISTS (SELECT 1 FROM refunds k WHERE k.order_id = ${o}.id AND k.membership = 'keep' AND k.status = 'success')`;

const CHECKS: Record<string, string> = {
  'a paid order has exactly one successful payment record (besides double payments refunded by themselves)': `
    SELECT o.order_no FROM orders o WHERE o.status IN ${PAID}
      AND (SELECT count(*) FROM payment_records pr WHERE pr.order_id = o.id AND pr.status = 'success'
             AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_no = pr.payment_no AND f.kind = 'duplicate_payment')) <> 1`,
  'a paid order has exactly one standing grant': `
    SELECT o.order_no FROM orders o WHERE o.status IN ${GRANTED}
      AND (SELECT count(*) FROM membership_grants g WHERE g.order_id = o.id AND g.revoked_at IS NULL) <> 1`,
  'no standing grant without a paid order': `
    SELECT g.order_id FROM membership_grants g JOIN orders o ON o.id = g.order_id
     WHERE g.revoked_at IS NULL AND o.status NOT IN ${GRANTED} AND NOT (o.status = 'refunded' AND ${KEPT('o')})`,
  'a refunded order has no periods': `
    SELECT o.order_no FROM orders o WHERE o.status = 'refunded' AND NOT ${KEPT('o')}
       AND EXISTS (SELECT 1 FROM membership_periods p WHERE p.order_id = o.id)`,
  // A deduction that succeeded after its renewal order ended with the contract is kept as a double payment (refunded).
  'a successful payment belongs to a paid order': `
    SELECT pr.payment_no FROM payment_records pr JOIN orders o ON o.id = pr.order_id
     WHERE pr.status = 'success' AND o.status NOT IN ${PAID} AND NOT pr.double_payment`,
  'a paid order has exactly one order.paid event': `
    SELECT o.order_no FROM orders o WHERE o.status IN ${PAID}
      AND (SELECT count(*) FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.paid') <> 1`,
  'refunds never exceed what was paid, per attempt and per order': `
    SELECT o.order_no FROM orders o
     WHERE (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.order_id = o.id AND f.status IN ('processing', 'success', 'abnormal'))
         > (SELECT COALESCE(sum(pr.amount), 0) FROM payment_records pr WHERE pr.order_id = o.id AND pr.status = 'success')
        OR EXISTS (SELECT 1 FROM payment_records pr WHERE pr.order_id = o.id AND pr.amount <
             (SELECT COALESCE(sum(f.amount), 0) FROM refunds f WHERE f.payment_no = pr.payment_no AND f.status IN ('processing', 'success', 'abnormal')))`,
  "an order's refunded amount and status are its successful refunds": `
    SELECT o.order_no FROM orders o
      LEFT JOIN LATERAL (SELECT COALESCE(sum(f.amount), 0) AS total FROM refunds f
                          WHERE f.order_id = o.id AND f.payment_no = o.payment_no AND ${ORDER_REFUND} AND f.status = 'success') r ON true
     WHERE o.refunded_amount <> r.total
        OR (o.status = 'refunded') <> (r.total > 0 AND r.total = o.amount)
        OR (o.status = 'partially_refunded') <> (r.total > 0 AND r.total < o.amount)
        OR (r.total > 0 AND o.status NOT IN ('partially_refunded', 'refunded'))`,
  'a refunded order has one order.refunded event per successful refund of its payment': `
    SELECT o.order_no FROM orders o
     WHERE (SELECT count(*) FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.refunded')
        <> (SELECT count(*) FROM refunds f WHERE f.order_id = o.id AND f.payment_no = o.payment_no AND ${ORDER_REFUND} AND f.status = 'success')`,
  // Days are kept: per member and level, the ledger holds exactly what the standing grants brought
  // (a purchase its plan's days; an upgrade moves what it converted from one level to another).
  'the ledger holds, per level, the days the paid orders bought': `
    WITH held AS (
      SELECT user_id, level, sum(EXTRACT(EPOCH FROM ends_at - starts_at) * 1000)::bigint AS ms
        FROM membership_periods GROUP BY user_id, level),
    bought AS (
      SELECT user_id, level, sum(ms)::bigint AS ms FROM (
        SELECT user_id, level, duration_ms - withdrawn_ms AS ms FROM membership_grants WHERE revoked_at IS NULL AND kind <> 'upgrade'
        UNION ALL SELECT user_id, level, converted_ms FROM membership_grants WHERE revoked_at IS NULL AND kind = 'upgrade'
        UNION ALL SELECT user_id, upgrade_from_level, -converted_ms FROM membership_grants WHERE revoked_at IS NULL AND kind = 'upgrade'
      ) parts GROUP BY user_id, level)
    SELECT coalesce(h.user_id, b.user_id) AS user_id, coalesce(h.level, b.level) AS level, h.ms AS held, b.ms AS bought
      FROM held h FULL JOIN bought b ON b.user_id = h.user_id AND b.level = h.level
     WHERE coalesce(h.ms, 0) <> coalesce(b.ms, 0)`,
  "an upgrade's shortfall is at most what it cost": `
    SELECT order_no FROM orders WHERE upgrade_shortfall IS NOT NULL AND (upgrade_shortfall < 0 OR upgrade_shortfall > amount)`,
  'an upgrade converts no more than it was priced on': `
    SELECT order_id FROM membership_grants WHERE kind = 'upgrade'
       AND (converted_ms IS NULL OR converted_ms < 0 OR converted_ms > upgrade_quoted_ms
            OR (revoked_at IS NULL AND converted_ms > upgrade_quoted_ms - withdrawn_ms))`,
  "a member's periods never overlap": `
    SELECT a.user_id FROM membership_periods a JOIN membership_periods b
      ON b.user_id = a.user_id AND b.id <> a.id AND b.starts_at < a.ends_at AND a.starts_at < b.ends_at`,
  // Auto-renewal contracts and their cycles.
  'an active or past_due contract has its provider id (it was signed)': `
    SELECT contract_no FROM contracts WHERE status IN ('active', 'past_due') AND provider_contract_id IS NULL`,
  'a past_due contract has a grace end; an active one none': `
    SELECT contract_no FROM contracts WHERE (status = 'past_due' AND grace_ends_at IS NULL) OR (status = 'active' AND grace_ends_at IS NOT NULL)`,
  'a renewal order belongs to exactly one cycle, and a cycle to a renewal order of its member and plan at the signed amount': `
    SELECT o.order_no FROM orders o WHERE o.source = 'renewal'
       AND (SELECT count(*) FROM renewal_cycles rc WHERE rc.order_id = o.id) <> 1
    UNION ALL
    SELECT o.order_no FROM renewal_cycles rc JOIN orders o ON o.id = rc.order_id JOIN contracts c ON c.id = rc.contract_id
     WHERE o.source <> 'renewal' OR o.user_id <> c.user_id OR o.product_id <> c.plan_id OR o.amount <> c.amount
        OR o.payment_method <> c.provider`,
  'no cycle is charged twice: per contract and cycle one paid renewal order with one kept payment': `
    SELECT rc.contract_id, rc.cycle FROM renewal_cycles rc
     WHERE (SELECT count(*) FROM payment_records pr WHERE pr.order_id = rc.order_id AND pr.status IN ('success', 'refunded')
              AND NOT pr.double_payment) > 1`,
  "a paid cycle's order is paid, and a contract has renewed exactly its paid cycles": `
    SELECT rc.id::text FROM renewal_cycles rc JOIN orders o ON o.id = rc.order_id
     WHERE rc.status = 'paid' AND o.status NOT IN ${PAID}
    UNION ALL
    SELECT c.contract_no FROM contracts c
     WHERE c.cycles_renewed <> (SELECT count(*) FROM renewal_cycles rc WHERE rc.contract_id = c.id AND rc.status = 'paid')`,
  'a contract that is over has no open cycle, and at most one cycle of a contract is open': `
    SELECT c.contract_no FROM contracts c JOIN renewal_cycles rc ON rc.contract_id = c.id
     WHERE rc.status = 'open' AND c.status IN ('cancelled', 'lapsed')
    UNION ALL
    SELECT contract_id::text FROM renewal_cycles WHERE status = 'open' GROUP BY contract_id HAVING count(*) > 1`,
  "a deduction is an attempt of a renewal order or of its contract member's own order, under a contract of the same provider": `
    SELECT pr.payment_no FROM payment_records pr JOIN orders o ON o.id = pr.order_id
     WHERE pr.contract_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.provider_contract_id = pr.contract_id AND c.provider = pr.payment_method
                          AND c.user_id = o.user_id)`,
  // Bought with auto-renewal: the contract and the order it was signed with.
  "a contract signed with an order is that auto-renewal order's, of the same member and provider": `
    SELECT c.contract_no FROM contracts c JOIN orders o ON o.id = c.first_order_id
     WHERE NOT o.auto_renew OR o.user_id <> c.user_id OR o.payment_method <> c.provider`,
  'an auto-renewal order has its contract': `
    SELECT o.order_no FROM orders o WHERE o.auto_renew AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.first_order_id = o.id)`,
  'an order that ended unpaid leaves no contract waiting for its signature': `
    SELECT c.contract_no FROM contracts c JOIN orders o ON o.id = c.first_order_id
     WHERE c.status = 'pending' AND o.status IN ('closed', 'expired', 'failed')`,
  // A renewal order has no code: the provider takes the money under the contract.
  'no pending order without a QR code (or, on another channel, what its client pays with)': `
    SELECT order_no FROM orders WHERE status = 'pending' AND source = 'member'
      AND (payment_no IS NULL OR (channel = 'qr' AND qr_code_url IS NULL) OR (channel <> 'qr' AND pay_params IS NULL))`,
};

/**
 * What support conceded to each member, in fen: days kept on purpose beyond what the member's money
 * pays for. The one place the money property takes concessions from: a refund made with
 * `membership: keep` returns its fen and leaves the days they bought.
 */
const CONCEDED_FEN = `
  SELECT o.user_id, sum(f.amount)::bigint AS fen
    FROM refunds f JOIN orders o ON o.id = f.order_id
   WHERE f.status = 'success' AND f.membership = 'keep'
   GROUP BY o.user_id`;

/**
 * Per member: the milliseconds held at each daily price (price / duration_days, as the pricing code
 * reckons it), carried-over days left out. A purchase or renewal's days are priced at what its order
 * cost (the plan's price when it was bought: a plan's price may change later); an upgrade's at its
 * plan's price (its order's amount is only the difference).
 */
const HELD_BY_PLAN = `
  SELECT p.user_id, (CASE WHEN g.kind = 'add' THEN o.amount ELSE pl.price END)::bigint AS price,
         pl.duration_days::bigint AS days, sum(round(EXTRACT(EPOCH FROM p.ends_at - p.starts_at) * 1000))::bigint AS ms
    FROM membership_periods p
    JOIN membership_grants g ON g.id = p.grant_id
    JOIN membership_plans pl ON pl.id = p.plan_id
    JOIN orders o ON o.id = g.order_id
   WHERE g.kind <> 'opening'
   GROUP BY 1, 2, 3`;

const PAID_FEN = `
  SELECT o.user_id, sum(pr.amount)::bigint AS fen
    FROM payment_records pr JOIN orders o ON o.id = pr.order_id
   WHERE pr.status = 'success' GROUP BY o.user_id`;

const REFUNDED_FEN = `
  SELECT o.user_id, sum(f.amount)::bigint AS fen
    FROM refunds f JOIN orders o ON o.id = f.order_id
   WHERE f.status = 'success' GROUP BY o.user_id`;

const DAY_MS = 86_400_000n;

export interface MemberMoney {
  user: string;
  /** The value of the days held, as the exact fraction `numerator / denominator` fen. */
  held: { numerator: bigint; denominator: bigint };
  paid: bigint;
  refunded: bigint;
  conceded: bigint;
}

/**
 * The money of every member who holds days or paid: what the days held are worth (each period's
 * milliseconds at the daily price — price / duration_days, as the pricing code reckons it — of the
 * plan that bought it), what was paid, refunded and conceded. Exact: a sum of fractions over their
 * common denominator in BigInt, so no rounding can hide a fen.
 */
export async function memberMoney(db: Client): Promise<MemberMoney[]> {
  const byUser = new Map<string, MemberMoney>();
  const member = (user: string) => {
    let m = byUser.get(user);
    if (!m) byUser.set(user, (m = { user, held: { numerator: 0n, denominator: 1n }, paid: 0n, refunded: 0n, conceded: 0n }));
    return m;
  };
  for (const r of (await db.query(HELD_BY_PLAN)).rows) {
    const m = member(r.user_id);
    // held + ms × price / (days × DAY_MS), over the product of the denominators (a few plans at most).
    const d = BigInt(r.days) * DAY_MS;
    m.held = { numerator: m.held.numerator * d + BigInt(r.ms) * BigInt(r.price) * m.held.denominator, denominator: m.held.denominator * d };
  }
  for (const [sql, key] of [
    [PAID_FEN, 'paid'],
    [REFUNDED_FEN, 'refunded'],
    [CONCEDED_FEN, 'conceded'],
  ] as const) {
    for (const r of (await db.query(sql)).rows) member(r.user_id)[key] = BigInt(r.fen);
  }
  return [...byUser.values()];
}

/** The members whose days are worth more than their money pays for: held > paid − refunded + conceded. */
export async function moneyViolations(db: Client): Promise<unknown[]> {
  return (await memberMoney(db))
    .filter((m) => m.held.numerator > (m.paid - m.refunded + m.conceded) * m.held.denominator)
    .map((m) => ({
      user_id: m.user,
      held_fen: (Number(m.held.numerator) / Number(m.held.denominator)).toFixed(4),
      paid: String(m.paid),
      refunded: String(m.refunded),
      conceded: String(m.conceded),
    }));
}

/**
 * The members whose stored periods are not the ledger their standing grants build (buildLedger):
 * a settlement resumes the ledger from what is stored, so what is stored must be what a rebuild
 * from every grant would write.
 */
export async function ledgerViolations(db: Client): Promise<unknown[]> {
  const { rows: grants } = await db.query(
    `SELECT g.user_id, g.id, g.kind, g.level, g.duration_ms, g.withdrawn_ms, g.granted_at, o.created_at AS order_created_at,
            g.upgrade_from_level, g.upgrade_quoted_ms, g.upgrade_quoted_at
       FROM membership_grants g LEFT JOIN orders o ON o.id = g.order_id WHERE g.revoked_at IS NULL`,
  );
  const { rows: periods } = await db.query(
    `SELECT user_id, grant_id, level, starts_at, ends_at FROM membership_periods ORDER BY user_id, starts_at`,
  );
  const span = (id: string, level: number, s: Date, e: Date) => `${id} ${level} ${s.toISOString()} ${e.toISOString()}`;
  const add = <T>(map: Map<string, T[]>, key: string, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  const stored = new Map<string, string[]>();
  for (const p of periods) add(stored, p.user_id, span(p.grant_id, p.level, p.starts_at, p.ends_at));
  const byUser = new Map<string, typeof grants>();
  for (const g of grants) add(byUser, g.user_id, g);
  const out: unknown[] = [];
  for (const user of new Set([...stored.keys(), ...byUser.keys()])) {
    const built = buildLedger((byUser.get(user) ?? []).map(toLedgerGrant)).periods.map((p) => span(p.id, p.level, p.startsAt, p.endsAt));
    const held = stored.get(user) ?? [];
    if (JSON.stringify(built) !== JSON.stringify(held)) out.push({ user_id: user, stored: held, built });
  }
  return out;
}

export async function invariantViolations(db: Client): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(CHECKS)) {
    const { rows } = await db.query(sql);
    if (rows.length) out[name] = rows;
  }
  const money = await moneyViolations(db);
  if (money.length) out['the days a member holds are worth no more than paid − refunded + conceded'] = money;
  const ledgers = await ledgerViolations(db);
  if (ledgers.length) out["a member's stored periods are the ledger their standing grants build"] = ledgers;
  return out;
}

export async function expectInvariants(db: Client): Promise<void> {
  expect(await invariantViolations(db)).toEqual({});
}
