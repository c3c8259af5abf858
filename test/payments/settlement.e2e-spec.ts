import { PaymentsService } from '../../src/payments/payments.service';
import type { PaymentEvent } from '../../src/payments/payment-provider';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox, postNotification } from '../support/orders';
import { providerEnv } from '../support/sandbox';

const DAY = 86_400_000;

/**
 * Settlement under contention on one member: each settlement rebuilds the member's ledger under
 * the member's lock, so concurrent settlements of one member's orders each add their days once.
 */
describe('settling many orders of one member', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), { sandbox: true });

  /** Orders for `user`, each paid at the sandbox with its notification held back. */
  async function paidButNotNotified(user: string, count: number) {
    const held: { method: string; orderNo: string; n: { headers: Record<string, string>; body: string } }[] = [];
    for (let i = 0; i < count; i++) {
      const method = i % 2 ? 'alipay' : 'wechat';
      const order = await createOrder(t, user, { payment_method: method });
      const { body } = await payAtSandbox(sb, order.qr_code_url, { delivery: 'none' });
      held.push({ method, orderNo: order.order_no, n: body.notification });
    }
    return held;
  }

  it("adds every order's days exactly once when all of a member's notifications arrive at once", async () => {
    const users = ['stack-a', 'stack-b', 'stack-c'];
    const perUser = 6;
    const held = (await Promise.all(users.map((u) => paidButNotNotified(u, perUser)))).flat();
    const answers = await Promise.all(held.map(({ method, n }) => postNotification(t, method, n)));
    expect(answers.map((a) => a.status).sort()).toEqual(held.map((h) => (h.method === 'wechat' ? 204 : 200)).sort());

    for (const user of users) {
      const { rows: grants } = await t.db.query(`SELECT kind, duration_ms FROM membership_grants WHERE user_id = $1`, [user]);
      expect(grants).toEqual(Array(perUser).fill({ kind: 'add', duration_ms: String(30 * DAY) }));
      // One unbroken run of basic days: each order's 30 days follow the one before, none lost or doubled.
      const { rows: periods } = await t.db.query(
        `SELECT level, starts_at, ends_at, order_id FROM membership_periods WHERE user_id = $1 ORDER BY starts_at`,
        [user],
      );
      expect(periods).toHaveLength(perUser);
      expect(new Set(periods.map((p) => p.order_id)).size).toBe(perUser);
      for (let i = 0; i < periods.length; i++) {
        expect(periods[i].level).toBe(1);
        expect(periods[i].ends_at.getTime() - periods[i].starts_at.getTime()).toBe(30 * DAY);
        if (i > 0) expect(periods[i].starts_at).toEqual(periods[i - 1].ends_at);
      }
      const me = await t.http
        .get('/api/v1/membership/me')
        .set('Authorization', `Bearer ${t.token(user)}`)
        .expect(200);
      expect(me.body).toMatchObject({ active: true, level: 1, expires_at: periods[perUser - 1].ends_at.toISOString() });
      const {
        rows: [e],
      } = await t.db.query(`SELECT count(*)::int AS n FROM order_events WHERE user_id = $1 AND type = 'order.paid'`, [user]);
      expect(e.n).toBe(perUser);
    }
  });

  describe('settlement refuses, writing nothing', () => {
    async function pendingAttempt(user: string) {
      const order = await createOrder(t, user);
      const {
        rows: [r],
      } = await t.db.query(
        `SELECT r.payment_no, r.amount FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`,
        [order.order_no],
      );
      return { orderNo: order.order_no, paymentNo: r.payment_no as string, amount: r.amount as number };
    }
    const paid = (paymentNo: string, amountFen: number): PaymentEvent => ({
      provider: 'wechat',
      paymentNo,
      outcome: 'paid',
      tradeState: 'SUCCESS',
      providerTradeNo: `tx-${paymentNo}`,
      amountFen,
      paidAt: new Date(),
      payload: {},
    });
    const settle = (paymentNo: string, amount: number) => t.app.get(PaymentsService).settle(paid(paymentNo, amount), 'query');
    const footprint = async (orderNo: string) =>
      (
        await t.db.query(
          `SELECT o.status, r.status AS attempt, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
              (SELECT count(*)::int FROM order_events e WHERE e.order_id = o.id) AS events,
              (SELECT count(*)::int FROM membership_periods p WHERE p.user_id = o.user_id) AS periods
         FROM orders o JOIN payment_records r ON r.order_id = o.id WHERE o.order_no = $1`,
          [orderNo],
        )
      ).rows[0];
    const untouched = { status: 'pending', attempt: 'pending', grants: 0, events: 0, periods: 0 };

    it("when the amount is not the attempt's", async () => {
      const a = await pendingAttempt('wrong-amount');
      await expect(settle(a.paymentNo, a.amount + 1)).rejects.toMatchObject({ reason: 'AMOUNT_MISMATCH' });
      expect(await footprint(a.orderNo)).toEqual(untouched);
    });

    it('for an unknown attempt, and settles a known one once', async () => {
      await expect(settle('no-such-payment', 1990)).rejects.toMatchObject({ reason: 'UNKNOWN_ORDER' });
      const a = await pendingAttempt('right-decision');
      expect(await settle(a.paymentNo, a.amount)).toEqual({ result: 'settled', orderNo: a.orderNo });
      expect(await settle(a.paymentNo, a.amount)).toEqual({ result: 'duplicate' });
      expect(await footprint(a.orderNo)).toEqual({ status: 'paid', attempt: 'success', grants: 1, events: 1, periods: 1 });
    });
  });
});
