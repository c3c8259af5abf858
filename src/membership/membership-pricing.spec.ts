import { quote, upgradeExcessMs, upgradePriceFen, upgradeShortfallFen } from './membership-pricing';
import type { MembershipPlan } from './membership-plan.entity';

const plan = (level: number, priceFen: number, durationDays: number) =>
  ({ id: level * 10 + durationDays, code: `p${level}`, name: 'p', level, priceFen, durationDays, active: true }) as MembershipPlan;
const DAY = 86_400_000;
const holding = (level: number, ...spans: [number, MembershipPlan][]) => ({
  level,
  remaining: spans.map(([days, p]) => ({ ms: days * DAY, plan: p })),
});

describe('membership pricing', () => {
  const basic = plan(1, 1990, 30);
  const premium = plan(2, 3990, 30);

  it('charges the plan price for a first purchase', () => {
    expect(quote(premium, null, false)).toEqual({ kind: 'purchase', amountFen: 3990 });
  });

  it('treats a membership with nothing left as none', () => {
    expect(quote(premium, holding(1, [0, basic]), false).kind).toBe('purchase');
  });

  it('charges the plan price for a same-level renewal', () => {
    expect(quote(basic, holding(1, [10, basic]), false)).toEqual({ kind: 'renewal', amountFen: 1990 });
  });

  it('charges the daily difference times the remaining days for an upgrade, rounded up, and names the days it converts', () => {
    // (3990 - 1990) / 30 per day * 10 days = 666.67 -> 667
    expect(quote(premium, holding(1, [10, basic]), true)).toEqual({
      kind: 'upgrade',
      amountFen: 667,
      upgrade: { fromLevel: 1, ms: 10 * DAY },
    });
  });

  it('prices each remaining span at the daily price it was bought at', () => {
    const basicYearly = plan(1, 19900, 365);
    const premiumYearly = plan(2, 39900, 365);
    // 73 days bought yearly: (39900 - 19900) / 365 * 73 = 4000; 10 days bought monthly: (39900/365 - 1990/30) * 10 = 429.8 -> total 4429.8 -> 4430
    expect(
      upgradePriceFen(premiumYearly, [
        { ms: 73 * DAY, plan: basicYearly },
        { ms: 10 * DAY, plan: basic },
      ]),
    ).toBe(4430);
  });

  it('charges at least one fen', () => {
    expect(upgradePriceFen(premium, [{ ms: 1, plan: basic }])).toBe(1);
    expect(upgradePriceFen(plan(2, 100, 365), [{ ms: 5 * DAY, plan: basic }])).toBe(1);
  });

  it('is exact where floating point would not be', () => {
    // (39900/365 - 19900/365) * 73 days = 4000 exactly; float gives 4000.0000000000005
    expect(upgradePriceFen(plan(2, 39900, 365), [{ ms: 73 * DAY, plan: plan(1, 19900, 365) }])).toBe(4000);
  });

  it('returns what an upgrade was paid less what the days it converted are worth, each at its own daily difference, rounded down', () => {
    const quarter = plan(1, 5490, 90);
    // Priced on a basic month (66.67 fen a day to premium) and a basic quarter (72 fen a day): 2000 + 6480 = 8480.
    expect(
      upgradePriceFen(premium, [
        { ms: 30 * DAY, plan: basic },
        { ms: 90 * DAY, plan: quarter },
      ]),
    ).toBe(8480);
    // All of it converted: nothing back.
    expect(
      upgradeShortfallFen(premium, 8480, [
        { ms: 30 * DAY, plan: basic },
        { ms: 90 * DAY, plan: quarter },
      ]),
    ).toBe(0);
    // The month's first twenty days ran before payment: those are worth 1333.33 (in proportion: 1413).
    expect(
      upgradeShortfallFen(premium, 8480, [
        { ms: 10 * DAY, plan: basic },
        { ms: 90 * DAY, plan: quarter },
      ]),
    ).toBe(1333);
    // The quarter ran first instead: twenty of its days are worth 1440 (in proportion: 1413).
    expect(
      upgradeShortfallFen(premium, 8480, [
        { ms: 70 * DAY, plan: quarter },
        { ms: 30 * DAY, plan: basic },
      ]),
    ).toBe(1440);
    // Nothing converted: all of it back; never more than was paid, never less than nothing.
    expect(upgradeShortfallFen(premium, 667, [])).toBe(667);
    expect(upgradeShortfallFen(premium, 0, [])).toBe(0);
    expect(upgradeShortfallFen(premium, 1, [{ ms: 10 * DAY, plan: basic }])).toBe(0);
    // A converted span worth more than its share of the price (a dearer plan's days): nothing back, not a negative refund.
    expect(upgradeShortfallFen(premium, 667, [{ ms: 10 * DAY, plan: plan(1, 100, 30) }])).toBe(0);
  });

  it('takes back from the end of what an upgrade converts the least time that leaves it worth no more than is paid', () => {
    const quarter = plan(1, 5490, 90);
    // A quarter's 90 days (72 fen a day to premium, 6480) run before a month's 30 (66.67 a day, 2000).
    const converted = [
      { ms: 90 * DAY, plan: quarter },
      { ms: 30 * DAY, plan: basic },
    ];
    expect(upgradeExcessMs(premium, 8480, converted)).toBe(0);
    // Half the price left: the month's 30 days go, then 2240 fen of the quarter's (31.11 days).
    const ms = upgradeExcessMs(premium, 4240, converted);
    const kept = [{ ms: 90 * DAY - (ms - 30 * DAY), plan: quarter }];
    expect(ms - 30 * DAY).toBe(Math.ceil((2240 * DAY) / 72));
    expect(upgradeShortfallFen(premium, 4240, kept)).toBe(0); // kept is worth at most 4240
    expect(upgradePriceFen(premium, kept)).toBeLessThanOrEqual(4240);
    expect(upgradePriceFen(premium, [{ ms: kept[0].ms + 1000, plan: quarter }])).toBeGreaterThan(4240);
    // Nothing left paid: all of it.
    expect(upgradeExcessMs(premium, 0, converted)).toBe(120 * DAY);
  });

  it.each([
    ['an upgrade without a membership', premium, null, true, /no active membership to upgrade/],
    ['an upgrade to the same level', basic, holding(1, [3, basic]), true, /already at this level/],
    ['a plain purchase of a higher level', premium, holding(1, [3, basic]), false, /is_upgrade set to true/],
    ['a purchase of a lower level', basic, holding(2, [3, premium]), false, /higher level/],
  ])('refuses %s with a 409 saying what to do', (_name, p, current, upgrade, message) => {
    expect(() => quote(p, current, upgrade)).toThrow(message);
  });
});
