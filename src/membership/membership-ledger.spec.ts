import fc from 'fast-check';
import { buildLedger, byGrantOrder, DAY_MS, LedgerGrant, LedgerPeriod, resumeLedger, standingAt } from './membership-ledger';
import { quote } from './membership-pricing';
import type { MembershipPlan } from './membership-plan.entity';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const plan = (id: number, level: number, priceFen: number, durationDays: number) =>
  ({ id, code: `p${id}`, name: `p${id}`, level, priceFen, durationDays, active: true }) as MembershipPlan;
const PLANS = [plan(1, 1, 1990, 30), plan(2, 1, 19900, 365), plan(3, 2, 3990, 30), plan(4, 2, 39900, 365)];

const add = (id: string, level: number, days: number, grantedAt: number, createdAt = grantedAt): LedgerGrant => ({
  id,
  kind: 'add',
  level,
  durationMs: days * DAY_MS,
  grantedAt: at(grantedAt),
  orderCreatedAt: at(createdAt),
});
const upgrade = (id: string, level: number, fromLevel: number, quotedMs: number, quotedAt: number, grantedAt: number): LedgerGrant => ({
  id,
  kind: 'upgrade',
  level,
  durationMs: 0,
  grantedAt: at(grantedAt),
  orderCreatedAt: at(quotedAt),
  upgrade: { fromLevel, quotedMs, quotedAt: at(quotedAt) },
});

const spans = (periods: LedgerPeriod[]) => periods.map((p) => [p.id, p.level, p.startsAt.getTime() - T0, p.endsAt.getTime() - T0]);
const perLevel = (periods: LedgerPeriod[]) => {
  const out: Record<number, number> = {};
  for (const p of periods) out[p.level] = (out[p.level] ?? 0) + p.endsAt.getTime() - p.startsAt.getTime();
  return out;
};
const perGrant = (periods: LedgerPeriod[]) => {
  const out: Record<string, number> = {};
  for (const p of periods) out[p.id] = (out[p.id] ?? 0) + p.endsAt.getTime() - p.startsAt.getTime();
  return out;
};

describe('the membership ledger', () => {
  it('runs a premium month first and a basic year after it, whichever was paid first', () => {
    const premiumFirst = buildLedger([add('premium', 2, 30, 0), add('basic', 1, 365, 1000)]);
    const basicFirst = buildLedger([add('basic', 1, 365, 0), add('premium', 2, 30, 1000)]);
    for (const ledger of [premiumFirst, basicFirst]) {
      expect(perLevel(ledger.periods)).toEqual({ 2: 30 * DAY_MS, 1: 365 * DAY_MS });
      expect(ledger.periods[ledger.periods.length - 1].endsAt.getTime()).toBe(T0 + 395 * DAY_MS);
    }
    expect(spans(premiumFirst.periods)).toEqual([
      ['premium', 2, 0, 30 * DAY_MS],
      ['basic', 1, 30 * DAY_MS, 395 * DAY_MS],
    ]);
    // Paid second, the premium month interrupts the basic year a second in; the basic days resume after it.
    expect(spans(basicFirst.periods)).toEqual([
      ['basic', 1, 0, 1000],
      ['premium', 2, 1000, 1000 + 30 * DAY_MS],
      ['basic', 1, 1000 + 30 * DAY_MS, 395 * DAY_MS],
    ]);
  });

  it('converts only the days an upgrade was quoted on, not a renewal paid after the quote', () => {
    const basic = add('basic', 1, 30, 0);
    const quotedAt = 20 * DAY_MS; // 10 days left
    const renewal = add('renewal', 1, 30, quotedAt + 1000, quotedAt + 500);
    const up = upgrade('upgrade', 2, 1, 10 * DAY_MS, quotedAt, quotedAt + 2000);
    const renewalFirst = buildLedger([basic, renewal, up]);
    const upgradeFirst = buildLedger([basic, { ...up, grantedAt: at(quotedAt + 1000) }, { ...renewal, grantedAt: at(quotedAt + 2000) }]);
    for (const ledger of [renewalFirst, upgradeFirst]) {
      // 20 basic days ran, ~10 converted to premium, the renewal's 30 stay basic.
      const levels = perLevel(ledger.periods);
      expect(levels[1] + levels[2]).toBe(60 * DAY_MS);
      expect(perGrant(ledger.periods).renewal).toBe(30 * DAY_MS);
      expect(ledger.upgrades.get('upgrade')!.convertedMs + ledger.upgrades.get('upgrade')!.shortfallMs).toBe(10 * DAY_MS);
    }
    // The two seconds that ran at basic between quote and payment are the upgrade's shortfall.
    // It says whose days it converted: the basic month's, none of the renewal's.
    expect(renewalFirst.upgrades.get('upgrade')).toEqual({
      convertedMs: 10 * DAY_MS - 2000,
      shortfallMs: 2000,
      convertedFrom: [{ id: 'basic', ms: 10 * DAY_MS - 2000 }],
    });
    expect(upgradeFirst.upgrades.get('upgrade')).toEqual({
      convertedMs: 10 * DAY_MS - 1000,
      shortfallMs: 1000,
      convertedFrom: [{ id: 'basic', ms: 10 * DAY_MS - 1000 }],
    });
  });

  it("converts none of the days of a grant timed in its quote's own millisecond (the quote did not see it)", () => {
    // The quote is timed strictly after every grant it saw; a grant taking the member's lock right
    // after it may get the same millisecond, and the quote did not price its days.
    const basic = add('basic', 1, 30, 0);
    const quotedAt = 20 * DAY_MS;
    const same = add('same', 1, 30, quotedAt, quotedAt);
    const ledger = buildLedger([basic, same, upgrade('up', 2, 1, 10 * DAY_MS, quotedAt, quotedAt + 3 * DAY_MS)]);
    expect(ledger.upgrades.get('up')).toEqual({
      convertedMs: 7 * DAY_MS,
      shortfallMs: 3 * DAY_MS,
      convertedFrom: [{ id: 'basic', ms: 7 * DAY_MS }],
    });
    expect(perGrant(ledger.periods).same).toBe(30 * DAY_MS);
  });

  it('says whose days an upgrade converted, each grant with its own share, in the order they run', () => {
    const month = add('month', 1, 30, 0);
    const quarter = add('quarter', 1, 90, 1);
    const ledger = buildLedger([month, quarter, upgrade('up', 2, 1, 120 * DAY_MS - 2, 2, 20 * DAY_MS)]);
    expect(ledger.upgrades.get('up')).toEqual({
      convertedMs: 100 * DAY_MS,
      shortfallMs: 20 * DAY_MS - 2,
      convertedFrom: [
        { id: 'month', ms: 10 * DAY_MS },
        { id: 'quarter', ms: 90 * DAY_MS },
      ],
    });
  });

  it('records a shortfall when the quoted days ran out before the upgrade was paid', () => {
    const ledger = buildLedger([add('basic', 1, 30, 0), upgrade('late', 2, 1, 10 * DAY_MS, 20 * DAY_MS, 40 * DAY_MS)]);
    expect(ledger.upgrades.get('late')).toEqual({ convertedMs: 0, shortfallMs: 10 * DAY_MS, convertedFrom: [] });
    expect(spans(ledger.periods)).toEqual([['basic', 1, 0, 30 * DAY_MS]]);
  });

  it('starts afresh after a gap', () => {
    expect(spans(buildLedger([add('a', 1, 30, 0), add('b', 1, 30, 40 * DAY_MS)]).periods)).toEqual([
      ['a', 1, 0, 30 * DAY_MS],
      ['b', 1, 40 * DAY_MS, 70 * DAY_MS],
    ]);
  });

  it('is what it would have been without a revoked grant, later grants keeping theirs', () => {
    const a = add('a', 1, 30, 0);
    const b = add('b', 2, 30, 5 * DAY_MS);
    const c = add('c', 1, 365, 6 * DAY_MS);
    expect(perGrant(buildLedger([a, c]).periods)).toEqual({ a: 30 * DAY_MS, c: 365 * DAY_MS });
    expect(perGrant(buildLedger([a, b, c]).periods)).toEqual({ a: 30 * DAY_MS, b: 30 * DAY_MS, c: 365 * DAY_MS });
  });

  /**
   * A member's life, generated: orders created at increasing times, each priced by the real pricing
   * rules against the ledger as it stands then (so an upgrade is quoted on the days then held);
   * each paid at some later moment, in a random order. Whatever the order of payment, days are kept.
   */
  interface Step {
    plan: MembershipPlan;
    upgrade: boolean;
    gap: number;
    payDelay: number;
  }
  const life: fc.Arbitrary<Step[]> = fc.array(
    fc.record({
      plan: fc.constantFrom(...PLANS),
      upgrade: fc.boolean(),
      gap: fc.integer({ min: 0, max: 40 * DAY_MS }),
      payDelay: fc.integer({ min: 0, max: 20 * DAY_MS }),
    }),
    { minLength: 1, maxLength: 10 },
  );

  function live(steps: Step[], payOrder: number[]) {
    const grants: LedgerGrant[] = [];
    const priced: { id: string; level: number; ms: number; from?: number; amount: number }[] = [];
    let t = 0;
    const pending: { grant: LedgerGrant; payAt: number }[] = [];
    steps.forEach((s, i) => {
      t += s.gap;
      // Whatever became due is paid (in the generated order) before this order is quoted.
      const due = pending.filter((p) => p.payAt <= t);
      for (const p of orderBy(due, payOrder)) {
        grants.push(p.grant);
        pending.splice(pending.indexOf(p), 1);
      }
      const ledger = buildLedger(grants);
      const s0 = standingAt(ledger.periods, at(t));
      // Prices do not matter here (only days are checked): every span is priced as the first plan.
      const current = s0.current ? { level: s0.level, remaining: s0.remaining.map((r) => ({ ms: r.ms, plan: PLANS[0] })) } : null;
      let q;
      try {
        q = quote(s.plan, current, s.upgrade);
      } catch {
        return;
      }
      const id = `o${i}`;
      const payAt = t + s.payDelay;
      const grant = q.upgrade
        ? upgrade(id, s.plan.level, q.upgrade.fromLevel, q.upgrade.ms, t, payAt)
        : add(id, s.plan.level, s.plan.durationDays, payAt, t);
      priced.push({
        id,
        level: s.plan.level,
        ms: q.upgrade ? q.upgrade.ms : s.plan.durationDays * DAY_MS,
        from: q.upgrade?.fromLevel,
        amount: q.amountFen,
      });
      pending.push({ grant, payAt });
    });
    for (const p of orderBy(pending, payOrder)) grants.push(p.grant);
    return { grants, priced };
  }
  const orderBy = <X>(xs: X[], keys: number[]) =>
    xs
      .map((x, i) => ({ x, k: keys[i % keys.length] ?? 0 }))
      .sort((a, b) => a.k - b.k)
      .map((e) => e.x);

  it('keeps every day priced, per level, for any payment order and timing', () => {
    fc.assert(
      fc.property(life, fc.array(fc.integer(), { minLength: 1, maxLength: 10 }), (steps, keys) => {
        const { grants, priced } = live(steps, keys);
        const ledger = buildLedger(grants);
        const held = perLevel(ledger.periods);
        const expected: Record<number, number> = {};
        for (const p of priced) {
          if (p.from === undefined) {
            expected[p.level] = (expected[p.level] ?? 0) + p.ms;
            continue;
          }
          const u = ledger.upgrades.get(p.id)!;
          // An upgrade converts at most what it was priced on; what it could not is its shortfall.
          expect(u.convertedMs + u.shortfallMs).toBe(p.ms);
          expected[p.level] = (expected[p.level] ?? 0) + u.convertedMs;
          expected[p.from] = (expected[p.from] ?? 0) - u.convertedMs;
        }
        for (const level of new Set([...Object.keys(held), ...Object.keys(expected)])) {
          expect(held[Number(level)] ?? 0).toBe(expected[Number(level)] ?? 0);
        }
        // Without upgrades, each purchase or renewal holds exactly its plan's days, wherever they fall
        // (an upgrade re-attributes the days it converts to itself).
        const byGrant = perGrant(ledger.periods);
        if (ledger.upgrades.size === 0) for (const p of priced) expect(byGrant[p.id] ?? 0).toBe(p.ms);
        // Periods never overlap.
        const sorted = [...ledger.periods].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime());
        for (let i = 1; i < sorted.length; i++) expect(sorted[i].startsAt.getTime()).toBeGreaterThanOrEqual(sorted[i - 1].endsAt.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('is the same ledger whatever order the same grants are written in', () => {
    fc.assert(
      fc.property(
        life,
        fc.array(fc.integer(), { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer(), { minLength: 1, maxLength: 10 }),
        (steps, keys, shuffle) => {
          const { grants } = live(steps, keys);
          expect(buildLedger(orderBy(grants, shuffle))).toEqual(buildLedger(grants));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('resumed from the stored periods after the last grant, is the ledger rebuilt from every grant', () => {
    let resumed = 0;
    fc.assert(
      fc.property(life, fc.array(fc.integer(), { minLength: 1, maxLength: 10 }), (steps, keys) => {
        const grants = live(steps, keys).grants.sort(byGrantOrder);
        for (let k = 1; k < grants.length; k++) {
          const stored = buildLedger(grants.slice(0, k));
          const since = grants[k - 1].grantedAt;
          const owners = new Map(grants.slice(0, k).map((g) => [g.id, g]));
          const held = stored.periods.filter((p) => p.endsAt > since).map((period) => ({ period, owner: owners.get(period.id)! }));
          // What the resume relies on: after the last grant, each grant holding days has one period.
          expect(new Set(held.map((h) => h.period.id)).size).toBe(held.length);
          const next = grants[k];
          const got = resumeLedger(held, since, [next]);
          if (next.grantedAt.getTime() <= since.getTime()) {
            expect(got).toBeNull();
            continue;
          }
          const full = buildLedger(grants.slice(0, k + 1));
          expect(got!.periods).toEqual(full.periods.filter((p) => p.endsAt > since));
          // What ends by the last grant is what was stored.
          expect(full.periods.filter((p) => p.endsAt <= since)).toEqual(stored.periods.filter((p) => p.endsAt <= since));
          expect(got!.upgrades.get(next.id)).toEqual(full.upgrades.get(next.id));
          resumed++;
        }
      }),
      { numRuns: 400 },
    );
    // The property was checked on resumed ledgers, not only on refusals.
    expect(resumed).toBeGreaterThan(100);
  });

  it("refuses to resume for a grant in the last grant's millisecond (the order of the two is not known from the periods)", () => {
    const stored = buildLedger([add('a', 1, 30, 0)]);
    const held = stored.periods.map((period) => ({ period, owner: add('a', 1, 30, 0) }));
    expect(resumeLedger(held, at(0), [add('b', 1, 30, 0)])).toBeNull();
    expect(spans(resumeLedger(held, at(0), [add('b', 1, 30, 1)])!.periods)).toEqual([
      ['a', 1, 0, 30 * DAY_MS],
      ['b', 1, 30 * DAY_MS, 60 * DAY_MS],
    ]);
  });

  it('is the same ledger when a set of orders is paid at one moment in any order as in creation order', () => {
    fc.assert(
      fc.property(life, fc.array(fc.integer(), { minLength: 1, maxLength: 10 }), (steps, keys) => {
        const { grants } = live(steps, [0]);
        const T = Math.max(...grants.map((g) => g.grantedAt.getTime())) + 1;
        // Re-time every grant to one instant after all were created: the order they are applied in is then all that differs.
        const atOnce = (gs: LedgerGrant[]) => gs.map((g) => ({ ...g, grantedAt: new Date(T) }));
        const inCreationOrder = [...grants].sort((a, b) => a.orderCreatedAt.getTime() - b.orderCreatedAt.getTime());
        expect(buildLedger(atOnce(orderBy(grants, keys)))).toEqual(buildLedger(atOnce(inCreationOrder)));
      }),
      { numRuns: 200 },
    );
  });
});
