import { nextMembership } from './membership-grant.rules';

const now = new Date('2026-01-01T00:00:00Z');
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);
const basic = { level: 1, durationDays: 30 };
const premium = { level: 2, durationDays: 30 };

describe('what a paid order does to a membership', () => {
  it('starts a first membership now', () => {
    expect(nextMembership({ level: 0, expiresAt: now }, basic, false, now)).toEqual({
      level: 1, expiresAt: days(30), startedAt: now, previousLevel: null, previousExpiresAt: null, note: undefined,
    });
  });

  it('extends an active membership from its expiry', () => {
    expect(nextMembership({ level: 1, expiresAt: days(10) }, basic, false, now)).toMatchObject({ level: 1, expiresAt: days(40), startedAt: null, previousExpiresAt: days(10) });
  });

  it('starts afresh after an expired one', () => {
    expect(nextMembership({ level: 2, expiresAt: days(-5) }, basic, false, now)).toMatchObject({ level: 1, expiresAt: days(30), startedAt: now, previousLevel: 2 });
  });

  it('raises the level and keeps the expiry for an upgrade', () => {
    expect(nextMembership({ level: 1, expiresAt: days(10) }, premium, true, now)).toMatchObject({ level: 2, expiresAt: days(10), note: undefined });
  });

  it('honours a late upgrade without adding time, and says so', () => {
    expect(nextMembership({ level: 1, expiresAt: days(-1) }, premium, true, now)).toMatchObject({ level: 2, expiresAt: now, note: expect.stringMatching(/expired/) });
  });

  it('keeps the higher level when a lower plan is paid during a higher membership, and says so', () => {
    expect(nextMembership({ level: 2, expiresAt: days(10) }, basic, false, now)).toMatchObject({ level: 2, expiresAt: days(40), note: expect.stringMatching(/higher level/) });
  });
});
