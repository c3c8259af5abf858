import { quote, upgradePriceFen } from './membership-pricing';
import type { MembershipPlan } from './membership-plan.entity';

const plan = (level: number, priceFen: number, durationDays: number) =>
  ({ id: level * 10 + durationDays, code: `p${level}`, name: 'p', level, priceFen, durationDays, active: true } as MembershipPlan);
const now = new Date('2026-01-01T00:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

describe('membership pricing', () => {
  const basic = plan(1, 1990, 30);
  const premium = plan(2, 3990, 30);

  it('charges the plan price for a first purchase', () => {
    expect(quote(premium, null, false, now)).toEqual({ kind: 'purchase', amountFen: 3990 });
  });

  it('treats an expired membership as none', () => {
    expect(quote(premium, { level: 1, expiresAt: days(-1), plan: basic }, false, now).kind).toBe('purchase');
  });

  it('charges the plan price for a same-level renewal', () => {
    expect(quote(basic, { level: 1, expiresAt: days(10), plan: basic }, false, now)).toEqual({ kind: 'renewal', amountFen: 1990 });
  });

  it('charges the daily difference times the remaining days for an upgrade, rounded up', () => {
    // (3990 - 1990) / 30 per day * 10 days = 666.67 -> 667
    expect(quote(premium, { level: 1, expiresAt: days(10), plan: basic }, true, now)).toEqual({ kind: 'upgrade', amountFen: 667 });
  });

  it('charges at least one fen', () => {
    expect(upgradePriceFen(premium, { level: 1, expiresAt: new Date(now.getTime() + 1), plan: basic }, now)).toBe(1);
    expect(upgradePriceFen(plan(2, 100, 365), { level: 1, expiresAt: days(5), plan: basic }, now)).toBe(1);
  });

  it('is exact where floating point would not be', () => {
    // (39900/365 - 19900/365) * 73 days = 4000 exactly; float gives 4000.0000000000005
    expect(upgradePriceFen(plan(2, 39900, 365), { level: 1, expiresAt: days(73), plan: plan(1, 19900, 365) }, now)).toBe(4000);
  });

  it.each([
    ['an upgrade without a membership', premium, null, true, /no active membership to upgrade/],
    ['an upgrade to the same level', basic, { level: 1, expiresAt: days(3), plan: basic }, true, /already at this level/],
    ['a plain purchase of a higher level', premium, { level: 1, expiresAt: days(3), plan: basic }, false, /is_upgrade set to true/],
    ['a purchase of a lower level', basic, { level: 2, expiresAt: days(3), plan: premium }, false, /higher level/],
  ])('refuses %s with a 409 saying what to do', (_name, p, current, upgrade, message) => {
    expect(() => quote(p, current, upgrade, now)).toThrow(message);
  });
});
