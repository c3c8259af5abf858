import { ProcessRefundsJob } from '../../src/refunds/process-refunds.job';
import { useApp } from '../support/lifecycle';
import { createOrder, membershipOf } from '../support/orders';
import { adminGet, orderRow, paidOrder, refundRow, requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall } from '../support/sandbox';

const DAY_MS = 86_400_000;

/** Money exact at the edges: a second upgrade of the same days, an upgrade left short by a refund, a partial refund's days. */
describe('every fen accounted for', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), { sandbox: true });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  const me = (user: string) => membershipOf(t, user);

  /** Waits until `check` holds of the database (a refund travels through the sandbox and back). */
  async function until<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const v = await read();
      if (check(v) || Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('refuses a second upgrade of the same days while one is pending, naming it (409 UPGRADE_PENDING)', async () => {
    await paidOrder(t, sb, 'mx-twice');
    const first = await createOrder(t, 'mx-twice', { product_id: 4, is_upgrade: true });
    const second = await t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token('mx-twice')}`)
      .send({ product_type: 'membership', product_id: 4, payment_method: 'alipay', is_upgrade: true })
      .expect(409);
    expect(second.body.code).toBe('UPGRADE_PENDING');
    expect(second.body.message).toContain(first.order_no);
    // Once the first is cancelled, the member may upgrade again.
    await t.http
      .post(`/api/v1/payment/orders/${first.order_no}/cancel`)
      .set('Authorization', `Bearer ${t.token('mx-twice')}`)
      .expect(200);
    await createOrder(t, 'mx-twice', { product_id: 4, is_upgrade: true, payment_method: 'alipay' });
  });

  it('refunds by itself an upgrade that a refund of its base order left without days: reason "upgrade shortfall", shown on the order', async () => {
    const base = await paidOrder(t, sb, 'mx-short');
    const upgrade = await paidOrder(t, sb, 'mx-short', 'wechat', { product_id: 4, is_upgrade: true });
    expect((await orderRow(t, upgrade.order_no)).upgrade_shortfall).toBe(0);
    const refund = await requestRefund(t, base.order_no, { reason: 'base refunded' }).expect(202);
    expect(await refundRow(t, refund.body.refund_no)).toMatchObject({ status: 'success' });
    // The upgrade converted the base order's days; with them gone, all it cost comes back.
    const owed = await until(
      () => t.db.query(`SELECT r.* FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`, [upgrade.order_no]),
      (r) => r.rows.length > 0 && r.rows[0].status === 'success',
    );
    expect(owed.rows).toHaveLength(1);
    expect(owed.rows[0]).toMatchObject({
      kind: 'upgrade_shortfall',
      reason: 'upgrade shortfall',
      requested_by: 'system',
      status: 'success',
    });
    const after = await orderRow(t, upgrade.order_no);
    expect(after.upgrade_shortfall).toBe(owed.rows[0].amount);
    // Nothing converted: all of its price, and the order is wholly refunded, its grant gone with it.
    expect(after.upgrade_shortfall).toBe(upgrade.amount);
    expect(after.status).toBe('refunded');
    const view = await t.http
      .get(`/api/v1/payment/orders/${upgrade.order_no}`)
      .set('Authorization', `Bearer ${t.token('mx-short')}`)
      .expect(200);
    expect(view.body.upgrade_shortfall).toBe(after.upgrade_shortfall);
    const support = await adminGet(t, `/api/v1/admin/orders/${upgrade.order_no}`).expect(200);
    expect(support.body.order.upgrade_shortfall).toBe(after.upgrade_shortfall);
    expect(support.body.refunds.map((r: any) => r.kind)).toEqual(['upgrade_shortfall']);
    // Reckoned once: the refund job finds nothing more to return.
    const job = t.app.get(ProcessRefundsJob);
    expect((await job.run(new Date())).upgrade_shortfalls).toBe(0);
    expect((await me('mx-short')).active).toBe(false);
  });

  it('returns the days an upgrade missed at their own daily difference, not a share of its price in proportion', async () => {
    // A basic month (66.67 fen a day short of premium) runs before a basic quarter (72 fen a day short):
    // the upgrade is priced on both; refunding the month leaves it the quarter's days only.
    const month = await paidOrder(t, sb, 'mx-spans', 'wechat', { product_id: 1 });
    await paidOrder(t, sb, 'mx-spans', 'wechat', { product_id: 2 });
    const upgrade = await paidOrder(t, sb, 'mx-spans', 'wechat', { product_id: 4, is_upgrade: true });
    expect(upgrade.amount).toBeGreaterThan(8400);
    await requestRefund(t, month.order_no, { reason: 'month refunded' }).expect(202);
    const owed = await until(
      () => t.db.query(`SELECT r.* FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`, [upgrade.order_no]),
      (r) => r.rows.length > 0 && r.rows[0].status === 'success',
    );
    expect(owed.rows).toHaveLength(1);
    const {
      rows: [grant],
    } = await t.db.query(
      `SELECT g.converted_ms, g.upgrade_quoted_ms, g.withdrawn_ms FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1`,
      [upgrade.order_no],
    );
    // What it converts are the quarter's days, each worth (3990/30 − 5490/90) = 72 fen a day more as
    // premium: the rest of its price comes back, rounded down.
    const converted = BigInt(grant.converted_ms);
    expect(converted).toBeGreaterThan(89n * BigInt(DAY_MS));
    const expected = Number((BigInt(upgrade.amount) * BigInt(DAY_MS) - converted * 72n) / BigInt(DAY_MS));
    expect(owed.rows[0].amount).toBe(expected);
    expect((await orderRow(t, upgrade.order_no)).upgrade_shortfall).toBe(expected);
    // About the month's 30 days at 66.67 a day, where a quarter of the price (the month's share of the
    // 120 days, in proportion) would have been about 2120.
    expect(expected).toBeGreaterThanOrEqual(1990);
    expect(expected).toBeLessThanOrEqual(2010);
  });

  it('takes back the days a partial refund bought: 39,899 of 39,900 fen leave less than a day of a year', async () => {
    const order = await paidOrder(t, sb, 'mx-partial', 'wechat', { product_id: 6 });
    expect(order.amount).toBe(39900);
    const before = await me('mx-partial');
    const refund = await requestRefund(t, order.order_no, { amount: 39899, reason: 'nearly all' }).expect(202);
    expect(await refundRow(t, refund.body.refund_no)).toMatchObject({ status: 'success', membership: 'withdraw' });
    const after = await me('mx-partial');
    const left = new Date(after.expires_at).getTime() - Date.now();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(DAY_MS); // one fen of 39,900 buys 365/39,900 of a day
    expect(new Date(after.expires_at).getTime()).toBeLessThan(new Date(before.expires_at).getTime());
  });

  it('keeps the days when support says "membership": "keep": a concession recorded with who and why', async () => {
    const order = await paidOrder(t, sb, 'mx-keep', 'wechat', { product_id: 3 });
    const before = await me('mx-keep');
    const refund = await requestRefund(t, order.order_no, { amount: 9900, reason: 'goodwill', membership: 'keep' }).expect(202);
    expect(await refundRow(t, refund.body.refund_no)).toMatchObject({ status: 'success', membership: 'keep', requested_by: 'admin-1' });
    expect((await me('mx-keep')).expires_at).toBe(before.expires_at);
    const support = await adminGet(t, `/api/v1/admin/orders/${order.order_no}`).expect(200);
    expect(support.body.refunds[0]).toMatchObject({ membership: 'keep', reason: 'goodwill', requested_by: 'admin-1', amount: 9900 });
    const bad = await requestRefund(t, order.order_no, { amount: 100, reason: 'x', membership: 'maybe' }).expect(400);
    expect(bad.body.code).toBe('VALIDATION_FAILED');
  });

  it("takes back half the days for half the price, from the end of the order's periods", async () => {
    const order = await paidOrder(t, sb, 'mx-half', 'wechat', { product_id: 2 });
    const before = await me('mx-half');
    const refund = await requestRefund(t, order.order_no, { amount: 2745, reason: 'half' }).expect(202);
    expect(await refundRow(t, refund.body.refund_no)).toMatchObject({ status: 'success' });
    const after = await me('mx-half');
    const lost = new Date(before.expires_at).getTime() - new Date(after.expires_at).getTime();
    expect(lost).toBe(45 * DAY_MS); // 2,745 of 5,490 fen bought 45 of the 90 days
    expect(after.periods[0].starts_at).toBe(before.periods[0].starts_at);
  });
});
