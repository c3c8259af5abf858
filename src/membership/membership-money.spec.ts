import fc from 'fast-check';
import { buildLedger, DAY_MS, Ledger, LedgerGrant, standingAt, UpgradeOutcome } from './membership-ledger';
import { quote, Quote, upgradeExcessMs, upgradeShortfallFen } from './membership-pricing';
import type { MembershipPlan } from './membership-plan.entity';

/**
 * The money property over generated lives of one member, on the pure pricing and ledger: whatever
 * the member buys, renews and upgrades, whenever and in whatever order the payments settle, paid
 * twice, refunded wholly or in part, the days held are never worth more than the fen paid minus the
 * fen refunded (plus what support conceded, nothing in these lives), and no upgrade's shortfall
 * exceeds its price. An upgrade's shortfall is returned by itself whenever the ledger changes, as
 * orders returns it; a partial refund takes back time as MembershipService.withdraw does (its share
 * in proportion, and for an upgrade what it would keep beyond what is left paid): the lives repeat
 * those rules, so a change to them is a change here too.
 *
 * "Worth" is each period's milliseconds at the daily price of the plan that bought it, price /
 * duration_days as the pricing code reckons it, compared as exact fractions (BigInt over a common
 * denominator): a rounding the wrong way by part of a fen is a violation, not noise.
 */

const T0 = Date.parse('2026-01-01T00:00:00Z');
const plan = (id: number, level: number, durationDays: number, priceFen: number) =>
  ({ id, code: `p${id}`, name: `p${id}`, level, durationDays, priceFen, active: true }) as MembershipPlan;
/** The plans the seed migration creates. */
const PLANS = [
  plan(1, 1, 30, 1990),
  plan(2, 1, 90, 5490),
  plan(3, 1, 365, 19900),
  plan(4, 2, 30, 3990),
  plan(5, 2, 90, 10990),
  plan(6, 2, 365, 39900),
];

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
/** One denominator for every plan's daily price per millisecond: value × UNIT is an integer. */
const UNIT = PLANS.map((p) => BigInt(p.durationDays) * BigInt(DAY_MS)).reduce((a, b) => (a * b) / gcd(a, b));
/** `ms` of `p` in fen × UNIT: ms × price / (days × DAY_MS), exactly. */
const worth = (p: MembershipPlan, ms: number) => (BigInt(ms) * BigInt(p.priceFen) * UNIT) / (BigInt(p.durationDays) * BigInt(DAY_MS));

interface Order {
  id: string;
  plan: MembershipPlan;
  quote: Quote;
  createdAt: number;
  /** The grant it brought while paid and not refunded. */
  grant: LedgerGrant | null;
  paid: boolean;
  refunded: boolean;
  /** Fen returned as an upgrade's shortfall so far. */
  shortfallFen: number;
  /** Fen returned by partial refunds, each with the time it bought. */
  withdrawnFen: number;
  /** Time taken back from its grant: what partial refunds bought, and an upgrade's time missed once its shortfall was returned. */
  takenMs: number;
}

type Action =
  | { kind: 'create'; plan: number; upgrade: boolean }
  /** Settles one of the orders not paid yet. */
  | { kind: 'pay'; order: number; raced: boolean }
  /** Pays an order already paid (or refunded) again: a double payment, refunded by itself, no extra days. */
  | { kind: 'payAgain'; order: number }
  /** Several unpaid orders settled at the same instant: ties broken by the order's creation. */
  | { kind: 'payTogether'; orders: number[] }
  /** A full refund: the order's grant goes, the ledger is what it would be had it never been paid. */
  | { kind: 'refund'; order: number }
  /** A refund of `percent` of what is left of an order: it takes back the time those fen bought (membership's withdraw). */
  | { kind: 'partialRefund'; order: number; percent: number };

/**
 * The time between two steps: at least a millisecond (two steps in the same millisecond are the
 * race below), often a moment, sometimes days or months (memberships run out).
 */
const gap = fc.oneof(fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 1, max: 3 * DAY_MS }), fc.integer({ min: 1, max: 120 * DAY_MS }));
const action = (raced: boolean): fc.Arbitrary<Action> =>
  fc.oneof(
    // A basic purchase or renewal, an upgrade to premium, or anything (mostly refused).
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('create' as const), plan: fc.integer({ min: 0, max: 2 }), upgrade: fc.constant(false) }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('create' as const), plan: fc.integer({ min: 3, max: 5 }), upgrade: fc.constant(true) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), plan: fc.nat(PLANS.length - 1), upgrade: fc.boolean() }) },
    {
      weight: 5,
      arbitrary: fc.record({ kind: fc.constant('pay' as const), order: fc.nat(), raced: raced ? fc.boolean() : fc.constant(false) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('payAgain' as const), order: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('payTogether' as const), orders: fc.array(fc.nat(), { minLength: 2, maxLength: 4 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), order: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('partialRefund' as const), order: fc.nat(), percent: fc.integer({ min: 1, max: 99 }) }),
    },
  );
const life = (raced: boolean) => fc.array(fc.tuple(gap, action(raced)), { minLength: 1, maxLength: 24 });

interface Books {
  paid: bigint;
  refunded: bigint;
}

/** What is wrong with the member's books now, or null. */
function violation(orders: Order[], ledger: Ledger, books: Books): string | null {
  const byGrant = new Map(orders.filter((o) => o.grant).map((o) => [o.grant!.id, o]));
  let held = 0n;
  for (const p of ledger.periods) held += worth(byGrant.get(p.id)!.plan, p.endsAt.getTime() - p.startsAt.getTime());
  const net = (books.paid - books.refunded) * UNIT;
  if (held > net) return `the days held are worth ${held}/${UNIT} fen, more than the ${books.paid} paid − ${books.refunded} refunded`;
  for (const o of orders) {
    if (!o.grant || !o.quote.upgrade) continue;
    const u = ledger.upgrades.get(o.grant.id);
    if (!u || u.convertedMs < 0 || u.convertedMs + u.shortfallMs + o.takenMs !== o.quote.upgrade.ms) {
      return `upgrade ${o.id} converted ${u?.convertedMs} + missed ${u?.shortfallMs} + took back ${o.takenMs} of the ${o.quote.upgrade.ms} ms it was priced on`;
    }
    const missing = shortfallOf(o, u, byGrant);
    if (missing < 0 || missing > o.quote.amountFen)
      return `upgrade ${o.id}'s shortfall ${missing} fen exceeds its price ${o.quote.amountFen}`;
  }
  return null;
}

/**
 * The fen an upgrade returns for the time it misses, as orders reckons it: what it was paid less the
 * days it converted, each at the daily difference of the plan that bought them.
 */
function shortfallOf(o: Order, u: UpgradeOutcome, byGrant: Map<string, Order>): number {
  return upgradeShortfallFen(
    o.plan,
    o.quote.amountFen - o.withdrawnFen,
    u.convertedFrom.map((c) => ({ ms: c.ms, plan: byGrant.get(c.id)!.plan })),
  );
}

/**
 * Lives one life and returns the first violation with the steps that led to it. Create-order quotes
 * under the member's lock and is timed strictly after every grant it saw, so the grants its quote
 * did not see are timed at or after it: `raced` settles a payment whose lock came right after the
 * quote's, in the quote's own millisecond, the closest a grant the quote did not see comes to it.
 * After every step, each upgrade's shortfall is returned as far as not returned yet, as orders
 * returns it whenever the ledger changes.
 */
function live(steps: [number, Action][]): string | null {
  const orders: Order[] = [];
  const books: Books = { paid: 0n, refunded: 0n };
  let t = T0;
  let lastGrantAt = -Infinity;
  let lastCreateAt: number | null = null;
  const standing = () => orders.filter((o) => o.grant && o.paid && !o.refunded).map((o) => o.grant!);

  const settle = (o: Order, at: number) => {
    books.paid += BigInt(o.quote.amountFen);
    if (o.paid) {
      // Paid again, or paid after its refund: the second payment is refunded whole, nothing granted.
      books.refunded += BigInt(o.quote.amountFen);
      return;
    }
    o.paid = true;
    lastGrantAt = Math.max(lastGrantAt, at);
    o.grant = o.quote.upgrade
      ? {
          id: o.id,
          kind: 'upgrade',
          level: o.plan.level,
          durationMs: 0,
          grantedAt: new Date(lastGrantAt),
          orderCreatedAt: new Date(o.createdAt),
          upgrade: { fromLevel: o.quote.upgrade.fromLevel, quotedMs: o.quote.upgrade.ms, quotedAt: new Date(o.createdAt) },
        }
      : {
          id: o.id,
          kind: 'add',
          level: o.plan.level,
          durationMs: o.plan.durationDays * DAY_MS,
          grantedAt: new Date(lastGrantAt),
          orderCreatedAt: new Date(o.createdAt),
        };
  };

  const log: string[] = [];
  for (const [wait, a] of steps) {
    t += wait;
    const pick = (i: number, which: (o: Order) => boolean) => {
      const some = orders.filter(which);
      return some.length ? some[i % some.length] : null;
    };
    const unpaid = (o: Order) => !o.paid;
    if (a.kind === 'create') {
      // The quote sees the grants standing now, each remaining span at the plan that bought it.
      const ledger = buildLedger(standing());
      const now = standingAt(ledger.periods, new Date(t));
      const planOf = new Map(orders.map((o) => [o.id, o.plan]));
      const current = now.current
        ? { level: now.level, remaining: now.remaining.map((r) => ({ ms: r.ms, plan: planOf.get(r.period.id)! })) }
        : null;
      let q: Quote;
      try {
        q = quote(PLANS[a.plan], current, a.upgrade);
      } catch {
        log.push(`+${wait} create ${PLANS[a.plan].code}${a.upgrade ? ' upgrade' : ''}: refused`);
        continue;
      }
      const o: Order = {
        id: `o${orders.length}`,
        plan: PLANS[a.plan],
        quote: q,
        createdAt: t,
        grant: null,
        paid: false,
        refunded: false,
        shortfallFen: 0,
        withdrawnFen: 0,
        takenMs: 0,
      };
      orders.push(o);
      lastCreateAt = t;
      log.push(`+${wait} create ${o.id} ${o.plan.code} ${q.kind} ${q.amountFen} fen${q.upgrade ? ` on ${q.upgrade.ms} ms` : ''}`);
    } else if (a.kind === 'pay') {
      const o = pick(a.order, unpaid);
      if (!o) continue;
      // A raced settlement waited for the member's lock while the last order was quoted (within the
      // two seconds a transaction may take) and got it in the quote's own millisecond.
      const raced = a.raced && lastCreateAt !== null && t - lastCreateAt <= 2000;
      settle(o, raced ? lastCreateAt! : t);
      log.push(`+${wait} pay ${o.id}${raced ? ' (locked right after the last quote, in its millisecond)' : ''}`);
    } else if (a.kind === 'payAgain') {
      const o = pick(a.order, (x) => x.paid);
      if (!o) continue;
      settle(o, t);
      log.push(`+${wait} pay ${o.id} again`);
    } else if (a.kind === 'payTogether') {
      const group = [...new Set(a.orders.map((i) => pick(i, unpaid)).filter((o): o is Order => o !== null))];
      for (const o of group) settle(o, t);
      log.push(`+${wait} pay together ${group.map((o) => o.id).join(' ')}`);
    } else {
      const o = pick(a.order, (x) => x.paid && !x.refunded);
      if (!o) continue;
      const amount = o.quote.amountFen;
      const left = amount - o.shortfallFen - o.withdrawnFen;
      const fen = a.kind === 'partialRefund' ? Math.max(1, Math.floor((left * a.percent) / 100)) : left;
      books.refunded += BigInt(fen);
      if (fen >= left) {
        // All that is left of it: the grant goes.
        o.refunded = true;
        log.push(`+${wait} refund ${o.id}`);
      } else {
        // As membership's withdraw: the time those fen bought, in proportion (rounded up), and for an
        // upgrade whatever it would keep beyond what is left paid for it.
        const total = o.quote.upgrade ? o.quote.upgrade.ms : o.plan.durationDays * DAY_MS;
        let ms = Math.ceil((total * fen) / amount);
        if (o.grant!.upgrade) {
          const grant = o.grant!;
          const trial = { ...grant, upgrade: { ...grant.upgrade!, quotedMs: total - Math.min(total, o.takenMs + ms) } };
          const u = buildLedger(standing().map((g) => (g === grant ? trial : g))).upgrades.get(grant.id)!;
          const byGrant = new Map(orders.filter((x) => x.grant).map((x) => [x.grant!.id, x]));
          const paidLeft = Math.max(0, amount - o.withdrawnFen - fen - o.shortfallFen);
          ms += upgradeExcessMs(
            o.plan,
            paidLeft,
            u.convertedFrom.map((c) => ({ ms: c.ms, plan: byGrant.get(c.id)!.plan })),
          );
        }
        o.takenMs = Math.min(total, o.takenMs + ms);
        o.withdrawnFen += fen;
        if (o.grant!.upgrade) o.grant!.upgrade.quotedMs = total - o.takenMs;
        else o.grant!.durationMs = total - o.takenMs;
        if (o.takenMs >= total) o.refunded = true;
        log.push(`+${wait} refund ${fen} of ${o.id}'s ${amount} fen`);
      }
    }
    let ledger = buildLedger(standing());
    // An upgrade's shortfall is returned by itself whenever the ledger changes (upgradeShortfallFen,
    // as orders reckons it), as far as not returned yet, and the time it missed is taken back from
    // its grant (as membership does), so no later change can convert days already paid back.
    const byGrant = new Map(orders.filter((o) => o.grant).map((o) => [o.grant!.id, o]));
    for (const o of orders) {
      const u = o.grant && !o.refunded && o.quote.upgrade ? ledger.upgrades.get(o.grant.id) : undefined;
      if (!u || u.shortfallMs <= 0) continue;
      const owed = shortfallOf(o, u, byGrant);
      o.grant!.upgrade!.quotedMs -= u.shortfallMs;
      o.takenMs += u.shortfallMs;
      u.shortfallMs = 0;
      if (owed > o.shortfallFen) {
        books.refunded += BigInt(owed - o.shortfallFen);
        log.push(`  (${o.id}'s shortfall: ${owed - o.shortfallFen} fen returned)`);
        o.shortfallFen = owed;
        // All of its price back: the order is wholly refunded and its grant goes (as a full refund's).
        if (o.shortfallFen + o.withdrawnFen >= o.quote.amountFen) o.refunded = true;
      }
    }
    // What the shortfalls took back (and any grant that went with all of its price) is no longer there.
    ledger = buildLedger(standing());
    const wrong = violation(
      orders.filter((o) => o.paid && !o.refunded),
      ledger,
      books,
    );
    if (wrong) return `${wrong}\n  after: ${log.join('\n         ')}`;
  }
  return null;
}

describe('the money property of the pricing and the ledger', () => {
  // A fixed seed keeps CI reproducible; fast-check still shrinks a failure to its smallest life.
  const params = { numRuns: 2000, seed: 20261206 };

  it('never holds days worth more than paid − refunded, and no upgrade misses more than it cost, settlements serialized', () => {
    fc.assert(
      fc.property(life(false), (steps) => {
        const wrong = live(steps);
        if (wrong) throw new Error(wrong);
      }),
      params,
    );
  });

  it('holds when settlements race the quotes', () => {
    fc.assert(
      fc.property(life(true), (steps) => {
        const wrong = live(steps);
        if (wrong) throw new Error(wrong);
      }),
      { ...params, numRuns: 4000 },
    );
  });

  /**
   * A settlement waiting for the member's lock while an upgrade is quoted: the quote prices the 30
   * days left of a basic month; a basic quarter's settlement gets the lock right after, in the
   * quote's millisecond; five days later the upgrade is paid. It converts only days granted strictly
   * before its quote, so it misses the five days that ran (and returns them) instead of making them
   * up from the quarter, whose days are cheaper, so worth more to the upgrade: about 27 fen more than
   * it charged when the quote's own millisecond counted as before it.
   */
  it('an upgrade converts none of the days of a settlement that took the lock after its quote, even in the same millisecond', () => {
    const wrong = live([
      [1, { kind: 'create', plan: 0, upgrade: false }],
      [1, { kind: 'create', plan: 1, upgrade: false }],
      [1, { kind: 'pay', order: 0, raced: false }],
      [1000, { kind: 'create', plan: 3, upgrade: true }],
      [500, { kind: 'pay', order: 0, raced: true }],
      [5 * DAY_MS, { kind: 'pay', order: 0, raced: false }],
    ]);
    expect(wrong).toBeNull();
  });

  /**
   * The days an upgrade misses are not an average of the days it was priced on: they are the ones
   * that ran first. Here a basic month (66.67 fen a day to premium) runs before a basic quarter (72
   * fen a day to premium); the upgrade is priced on both (8480 fen for 120 days) and paid twenty
   * days later: the twenty days it misses are the month's, worth 1333 fen of its price. Returned in
   * proportion to the time missed, 1413 would come back and the member would hold 80 fen more than
   * paid; returned as its price less what it converted, each span at its own daily difference, 1333.
   */
  it("an upgrade's shortfall returns the days it missed at their own daily difference", () => {
    const wrong = live([
      [1, { kind: 'create', plan: 1, upgrade: false }],
      [1, { kind: 'create', plan: 0, upgrade: false }],
      [1, { kind: 'pay', order: 1, raced: false }],
      [1, { kind: 'pay', order: 0, raced: false }],
      [1, { kind: 'create', plan: 3, upgrade: true }],
      [20 * DAY_MS, { kind: 'pay', order: 0, raced: false }],
    ]);
    expect(wrong).toBeNull();
  });
});
