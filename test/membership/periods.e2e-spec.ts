import fc from 'fast-check';
import { useApp } from '../support/lifecycle';
import { expectInvariants } from '../support/invariants';
import { createOrder, CreatedOrder, payAtSandbox } from '../support/orders';
import { providerEnv } from '../support/sandbox';

const DAY = 86_400_000;
const BASIC_MONTHLY = 1;
const BASIC_YEARLY = 3;
const PREMIUM_MONTHLY = 4;

interface Period {
  level: number;
  plan_code: string;
  starts_at: string;
  ends_at: string;
  order_no: string | null;
}
const length = (p: Period) => Date.parse(p.ends_at) - Date.parse(p.starts_at);

/**
 * Orders priced at creation and paid in any order end with exactly what was priced: through the
 * real API, the sandbox and its signed notifications.
 */
describe('membership periods: paid in any order, each order grants what it was priced for', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), { sandbox: true });

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const me = async (user: string) =>
    (await t.http.get('/api/v1/membership/me').set(auth(user)).expect(200)).body as {
      active: boolean;
      level: number | null;
      expires_at: string | null;
      periods: Period[];
    };
  async function pay(order: CreatedOrder) {
    const res = await payAtSandbox(sb, order.qr_code_url);
    expect(res.body.delivered).toBe(true);
  }
  /** Each order's days in the ledger, by order number and level. */
  async function daysByOrder(user: string): Promise<Record<string, Record<number, number>>> {
    const out: Record<string, Record<number, number>> = {};
    for (const p of (await me(user)).periods) {
      const o = (out[p.order_no ?? ''] ??= {});
      o[p.level] = (o[p.level] ?? 0) + length(p);
    }
    return out;
  }

  describe.each([
    ['premium first', true],
    ['basic first', false],
  ])('a new member buys a basic year and a premium month, paid %s', (_name, premiumFirst) => {
    it('holds premium for 30 days, then basic for 365', async () => {
      const user = `new-member-${premiumFirst}`;
      const basic = await createOrder(t, user, { product_id: BASIC_YEARLY });
      const premium = await createOrder(t, user, { product_id: PREMIUM_MONTHLY, payment_method: 'alipay' });
      expect([basic.amount, premium.amount]).toEqual([19900, 3990]);
      for (const o of premiumFirst ? [premium, basic] : [basic, premium]) await pay(o);

      const m = await me(user);
      expect(m).toMatchObject({ active: true, level: 2 });
      // Premium now; basic after it. Paid basic first, the basic days that ran for a moment come back after premium.
      const levels = m.periods.map((p) => p.level);
      expect(levels.slice(0, 1)).toEqual([2]);
      expect(levels[levels.length - 1]).toBe(1);
      const days = await daysByOrder(user);
      expect(days[premium.order_no]).toEqual({ 2: 30 * DAY });
      // The basic order's days: those still to come plus any that ran before the premium payment.
      const ranBasic = premiumFirst ? 0 : Date.parse(m.periods[0].starts_at) - (await paidAt(basic.order_no));
      expect(days[basic.order_no][1] + ranBasic).toBe(365 * DAY);
      expect(Date.parse(m.expires_at!) - Date.parse(m.periods[0].starts_at)).toBe(30 * DAY + 365 * DAY - ranBasic);
    });
  });

  const paidAt = async (orderNo: string) =>
    (
      await t.db.query(`SELECT g.granted_at FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1`, [orderNo])
    ).rows[0].granted_at.getTime() as number;

  describe.each([
    ['renewal first', true],
    ['upgrade first', false],
  ])('a basic member upgrades and renews, paid %s', (_name, renewalFirst) => {
    it('converts only the days the upgrade was priced on; the renewal stays basic', async () => {
      const user = `upgrader-${renewalFirst}`;
      await pay(await createOrder(t, user, { product_id: BASIC_MONTHLY }));
      const upgrade = await createOrder(t, user, { product_id: PREMIUM_MONTHLY, is_upgrade: true });
      const renewal = await createOrder(t, user, { product_id: BASIC_MONTHLY });
      // Priced on the ~30 basic days held: (3990 - 1990) / 30 fen a day.
      expect(upgrade.amount).toBeGreaterThan(1990);
      expect(upgrade.amount).toBeLessThanOrEqual(2000);
      expect(renewal.amount).toBe(1990);
      for (const o of renewalFirst ? [renewal, upgrade] : [upgrade, renewal]) await pay(o);

      const m = await me(user);
      expect(m.level).toBe(2);
      const days = await daysByOrder(user);
      expect(days[renewal.order_no]).toEqual({ 1: 30 * DAY });
      const {
        rows: [u],
      } = await t.db.query(
        `SELECT g.converted_ms, g.upgrade_quoted_ms, o.upgrade_shortfall FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1`,
        [upgrade.order_no],
      );
      // Converted: the quoted days less the seconds that ran at basic between quote and payment.
      expect(days[upgrade.order_no]).toEqual({ 2: Number(u.converted_ms) });
      expect(Number(u.upgrade_quoted_ms) - Number(u.converted_ms)).toBeGreaterThanOrEqual(0);
      expect(Number(u.upgrade_quoted_ms) - Number(u.converted_ms)).toBeLessThan(60_000);
      expect(u.upgrade_shortfall).toBe(0);
      // Premium first, then the renewal's basic month: the premium days are the upgrade's only.
      expect(m.periods.filter((p) => p.level === 2).every((p) => p.order_no === upgrade.order_no)).toBe(true);
      expect(m.periods[m.periods.length - 1]).toMatchObject({ level: 1, order_no: renewal.order_no });
    });
  });

  it('quotes what a member may buy now, with the price create-order charges', async () => {
    const user = 'quoted-1';
    const before = (await t.http.get('/api/v1/membership/quotes').set(auth(user)).expect(200)).body.data;
    expect(before.map((q: { kind: string }) => q.kind)).toEqual(Array(6).fill('purchase'));
    await pay(await createOrder(t, user, { product_id: BASIC_MONTHLY }));
    const after = (await t.http.get('/api/v1/membership/quotes').set(auth(user)).expect(200)).body.data as {
      plan: { id: number };
      kind: string;
      is_upgrade: boolean;
      amount: number;
      upgrade_days?: number;
    }[];
    // One upgrade per higher level: the one that costs least (premium yearly's daily price is the
    // lowest), saying how many days it converts.
    expect(after.map((q) => [q.plan.id, q.kind])).toEqual([
      [1, 'renewal'],
      [2, 'renewal'],
      [3, 'renewal'],
      [6, 'upgrade'],
    ]);
    const up = after.find((q) => q.kind === 'upgrade')!;
    expect(up).toMatchObject({ upgrade_days: 30, amount: 1290 });
    expect(after.filter((q) => q.kind !== 'upgrade').every((q) => q.upgrade_days === undefined)).toBe(true);
    const order = await createOrder(t, user, { product_id: up.plan.id, is_upgrade: up.is_upgrade });
    expect(Math.abs(order.amount - up.amount)).toBeLessThanOrEqual(1);
  });

  /**
   * Random lives, through the API: a member creates orders the pricing rules allow (purchases,
   * renewals, upgrades at both levels), then pays them in a random order, some at once. Every
   * order's days are in the ledger at its level (an upgrade's converted from the lower level), and
   * the ledger's shape matches a twin member who paid the same orders one at a time in creation order.
   */
  it('keeps the priced days per level for random orders paid in random order, partly concurrently', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(1, 2, 3, 4, 5, 6), { minLength: 2, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
        fc.integer({ min: 1, max: 3 }),
        async (plans, keys, batch) => {
          run += 1;
          const twins = [`life-${run}-random`, `life-${run}-ordered`];
          const made: Record<string, CreatedOrder[]> = {};
          const upgrades = new Set<string>();
          for (const user of twins) {
            // A first basic month paid, so that later orders can be renewals and upgrades.
            await pay(await createOrder(t, user, { product_id: BASIC_MONTHLY }));
            made[user] = [];
            for (const planId of plans) {
              const quotes = (await t.http.get('/api/v1/membership/quotes').set(auth(user)).expect(200)).body.data as {
                plan: { id: number };
                is_upgrade: boolean;
              }[];
              const q = quotes.find((x) => x.plan.id === planId);
              // One pending upgrade at a time: a second would be priced on the same days (409 UPGRADE_PENDING).
              const upgrading = made[user].some((o) => upgrades.has(o.order_no));
              if (!q || (q.is_upgrade && upgrading)) continue;
              const order = await createOrder(t, user, { product_id: planId, is_upgrade: q.is_upgrade });
              if (q.is_upgrade) upgrades.add(order.order_no);
              made[user].push(order);
            }
          }
          const [random, ordered] = twins;
          const shuffled = made[random]
            .map((o, i) => ({ o, k: keys[i % keys.length] }))
            .sort((a, b) => a.k - b.k)
            .map((x) => x.o);
          for (let i = 0; i < shuffled.length; i += batch) await Promise.all(shuffled.slice(i, i + batch).map(pay));
          for (const o of made[ordered]) await pay(o);

          await expectInvariants(t.db);
          const shape = async (user: string) => {
            const m = await me(user);
            const runs: { level: number; ms: number }[] = [];
            for (const p of m.periods) {
              const last = runs[runs.length - 1];
              if (last && last.level === p.level) last.ms += length(p);
              else runs.push({ level: p.level, ms: length(p) });
            }
            return { level: m.level, runs };
          };
          const [a, b] = [await shape(random), await shape(ordered)];
          expect(a.level).toBe(b.level);
          expect(a.runs.map((r) => r.level)).toEqual(b.runs.map((r) => r.level));
          // The same days per level, give or take the seconds that passed between the twins' payments.
          a.runs.forEach((r, i) => expect(Math.abs(r.ms - b.runs[i].ms)).toBeLessThan(120_000));
        },
      ),
      { numRuns: 6 },
    );
  }, 180_000);
});
