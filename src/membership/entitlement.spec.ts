import { entitlementAt } from './entitlement';

describe('entitlementAt', () => {
  const periods = [
    { level: 2, plan_code: 'premium_monthly', starts_at: '2026-12-01T00:00:00.000Z', ends_at: '2026-12-11T00:00:00.000Z', order_no: 'MO2' },
    { level: 1, plan_code: 'basic_monthly', starts_at: '2026-12-11T00:00:00.000Z', ends_at: '2027-01-10T00:00:00.000Z', order_no: 'MO1' },
  ];
  const at = (iso: string) => entitlementAt('42', periods, new Date(iso));

  it('is active exactly up to expires_at, never at it', () => {
    expect(at('2027-01-09T23:59:59.999Z')).toMatchObject({
      active: true,
      level: 1,
      plan_code: 'basic_monthly',
      expires_at: '2027-01-10T00:00:00.000Z',
    });
    expect(at('2027-01-10T00:00:00.000Z')).toMatchObject({
      active: false,
      level: null,
      plan_code: null,
      expires_at: '2027-01-10T00:00:00.000Z',
      periods: [],
    });
    expect(at('2027-01-10T00:00:01.000Z').active).toBe(false);
  });

  it('gives the level of the period running, and the periods still to run', () => {
    expect(at('2026-12-10T23:59:59.999Z')).toMatchObject({ active: true, level: 2, plan_code: 'premium_monthly' });
    expect(at('2026-12-10T23:59:59.999Z').periods).toHaveLength(2);
    expect(at('2026-12-11T00:00:00.000Z')).toMatchObject({ level: 1, periods: [periods[1]] });
  });

  it('is not active before the first period, nor for someone never a member', () => {
    expect(at('2026-11-30T23:59:59.999Z')).toMatchObject({ active: false, level: null });
    expect(entitlementAt('7', [], new Date())).toEqual({
      user_id: '7',
      active: false,
      level: null,
      plan_code: null,
      expires_at: null,
      in_grace: false,
      grace_ends_at: null,
      auto_renew: false,
      periods: [],
    });
  });

  it('says auto_renew while a contract renews, and in_grace only past the paid time and before the grace ends', () => {
    const contract = (status: 'active' | 'past_due' | 'cancelled', graceEndsAt: string | null = null) => ({
      status,
      provider: 'wechat',
      planId: 1,
      amountFen: 1990,
      signedAt: new Date('2026-12-01T00:00:00.000Z'),
      cancelledAt: null,
      graceEndsAt: graceEndsAt ? new Date(graceEndsAt) : null,
    });
    const withContract = (iso: string, c: ReturnType<typeof contract>) => entitlementAt('42', periods, new Date(iso), c);
    expect(withContract('2026-12-20T00:00:00.000Z', contract('active'))).toMatchObject({
      auto_renew: true,
      in_grace: false,
      grace_ends_at: null,
    });
    expect(withContract('2026-12-20T00:00:00.000Z', contract('cancelled'))).toMatchObject({ auto_renew: false, in_grace: false });
    const pastDue = contract('past_due', '2027-01-13T00:00:00.000Z');
    // Still paid: not in grace yet, though the grace's end is known.
    expect(withContract('2027-01-09T00:00:00.000Z', pastDue)).toMatchObject({
      active: true,
      auto_renew: true,
      in_grace: false,
      grace_ends_at: '2027-01-13T00:00:00.000Z',
    });
    // Past the paid time, in grace: access is kept at the level that lapsed, until the grace ends.
    const lapsedLevel = periods[periods.length - 1].level;
    expect(withContract('2027-01-12T23:59:59.999Z', pastDue)).toMatchObject({ active: true, level: lapsedLevel, in_grace: true });
    expect(withContract('2027-01-13T00:00:00.000Z', pastDue)).toMatchObject({ active: false, level: null, in_grace: false });
    // Without a failed renewal there is no grace: a cancelled contract's member lapses at the paid end.
    expect(withContract('2027-01-12T23:59:59.999Z', contract('cancelled'))).toMatchObject({ active: false, in_grace: false });
  });
});
