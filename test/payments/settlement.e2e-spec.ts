import { startTestApp, TestApp } from '../support/app';
import { expectInvariants } from '../support/invariants';
import { createOrder, payAtSandbox, postNotification } from '../support/orders';
import { providerEnv, Sandbox, startTestSandbox } from '../support/sandbox';

const DAY = 86_400_000;

/**
 * The settling statement (settle_payment_attempt) under contention on one member: the grant is
 * decided from a membership read without a lock, so concurrent settlements of one member's orders
 * must each be decided again when another got there first, never stacked on a stale expiry.
 */
describe('settling many orders of one member', () => {
  let sb: Sandbox;
  let t: TestApp;
  beforeAll(async () => {
    sb = await startTestSandbox();
    t = await startTestApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }));
  });
  afterEach(() => expectInvariants(t.db));
  afterAll(async () => {
    await t?.close();
    await sb?.close();
  });

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

  it('adds every order\'s days exactly once when all of a member\'s notifications arrive at once', async () => {
    const users = ['stack-a', 'stack-b', 'stack-c'];
    const perUser = 6;
    const held = (await Promise.all(users.map((u) => paidButNotNotified(u, perUser)))).flat();
    const answers = await Promise.all(held.map(({ method, n }) => postNotification(t, method, n)));
    expect(answers.map((a) => a.status).sort()).toEqual(held.map((h) => (h.method === 'wechat' ? 204 : 200)).sort());

    for (const user of users) {
      const { rows: grants } = await t.db.query(
        `SELECT previous_expires_at, new_expires_at, new_level FROM membership_grants WHERE user_id = $1 ORDER BY new_expires_at`, [user]);
      expect(grants).toHaveLength(perUser);
      // The first grant starts the membership (30 days from its settlement), each next one adds 30
      // days to the expiry the one before left.
      expect(grants[0].previous_expires_at).toBeNull();
      for (let i = 1; i < grants.length; i++) {
        expect(grants[i].previous_expires_at).toEqual(grants[i - 1].new_expires_at);
        expect(grants[i].new_expires_at.getTime() - grants[i - 1].new_expires_at.getTime()).toBe(30 * DAY);
      }
      const { rows: [m] } = await t.db.query('SELECT level, expires_at FROM user_memberships WHERE user_id = $1', [user]);
      expect(m).toEqual({ level: 1, expires_at: grants[perUser - 1].new_expires_at });
      const { rows: [e] } = await t.db.query(`SELECT count(*)::int AS n FROM order_events WHERE user_id = $1 AND type = 'order.paid'`, [user]);
      expect(e.n).toBe(perUser);
    }
  });

  describe('settle_payment_attempt refuses, writing nothing', () => {
    async function pendingAttempt(user: string) {
      const order = await createOrder(t, user);
      const { rows: [r] } = await t.db.query(
        `SELECT r.payment_no, r.amount FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`, [order.order_no]);
      return { orderNo: order.order_no, paymentNo: r.payment_no as string, amount: r.amount as number };
    }
    const settle = (paymentNo: string, amount: number, expectedLevel: number, expectedExpiresAt: Date | null) => t.db.query(
      'SELECT * FROM settle_payment_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [paymentNo, amount, 'SUCCESS', `tx-${paymentNo}`, '{}', new Date(), expectedLevel, expectedExpiresAt, 1, new Date(Date.now() + 30 * DAY), new Date(), '{}'],
    ).then((r) => r.rows[0]);
    const footprint = async (orderNo: string) => (await t.db.query(
      `SELECT o.status, r.status AS attempt, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
              (SELECT count(*)::int FROM order_events e WHERE e.order_id = o.id) AS events,
              (SELECT count(*)::int FROM user_memberships m WHERE m.user_id = o.user_id) AS memberships
         FROM orders o JOIN payment_records r ON r.order_id = o.id WHERE o.order_no = $1`, [orderNo])).rows[0];
    const untouched = { status: 'pending', attempt: 'pending', grants: 0, events: 0, memberships: 0 };

    it('when the grant was decided on a membership that is not the current one', async () => {
      const a = await pendingAttempt('stale-decision');
      expect(await settle(a.paymentNo, a.amount, 2, new Date())).toMatchObject({ outcome: 'stale', granted: false, event_id: null });
      expect(await footprint(a.orderNo)).toEqual(untouched);
    });

    it('when the amount is not the attempt\'s', async () => {
      const a = await pendingAttempt('wrong-amount');
      expect(await settle(a.paymentNo, a.amount + 1, 0, null)).toMatchObject({ outcome: 'amount_mismatch' });
      expect(await footprint(a.orderNo)).toEqual(untouched);
    });

    it('for an unknown attempt, and settles once with the right decision', async () => {
      expect(await settle('no-such-payment', 1990, 0, null)).toMatchObject({ outcome: 'unknown' });
      const a = await pendingAttempt('right-decision');
      expect(await settle(a.paymentNo, a.amount, 0, null)).toMatchObject({ outcome: 'settled', previous_status: 'pending', granted: true });
      expect(await settle(a.paymentNo, a.amount, 0, null)).toMatchObject({ outcome: 'duplicate' });
      expect(await footprint(a.orderNo)).toEqual({ status: 'paid', attempt: 'success', grants: 1, events: 1, memberships: 1 });
    });
  });
});
