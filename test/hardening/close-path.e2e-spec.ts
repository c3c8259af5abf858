import { ExpireOrdersJob } from '../../src/orders/expire-orders.job';
import { ExpireQrCodesJob } from '../../src/payments/expire-qr-codes.job';
import { LAST_QUERY_DELAY_MS } from '../../src/payments/payments.service';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox } from '../support/orders';
import { providerEnv, sandboxCall } from '../support/sandbox';

const SECOND = 1000;

/** The edges of closing an attempt at the provider (expiry jobs and cancel). */
describe('closing attempts: Alipay trades not yet scanned, and closes that claim a payment', () => {
  let expireQrCodes: ExpireQrCodesJob;
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), QR_CODE_EXPIRE_MINUTES: '15', ORDER_EXPIRE_MINUTES: '30' }), {
    sandbox: true,
  });
  beforeAll(() => {
    expireQrCodes = t.app.get(ExpireQrCodesJob);
  });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  const attempt = async (orderNo: string) =>
    (
      await t.db.query(
        `SELECT r.status, r.trade_state, r.next_query_at, r.qr_code_expire_at, o.status AS order_status
       FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1 ORDER BY r.created_at DESC LIMIT 1`,
        [orderNo],
      )
    ).rows[0];
  const at = (d: Date, ms: number) => new Date(d.getTime() + ms);

  it('Alipay: a close answered TRADE_NOT_EXIST is not a close; the last query after the expiry finds a payment whose notification was lost', async () => {
    const o = await createOrder(t, 'last-query-paid', { payment_method: 'alipay' });
    const { qr_code_expire_at: qrExpiry } = await attempt(o.order_no);
    expect((await expireQrCodes.run(at(qrExpiry, SECOND))).deferred).toBeGreaterThanOrEqual(1);
    expect(await attempt(o.order_no)).toMatchObject({
      status: 'pending',
      trade_state: 'TRADE_NOT_EXIST',
      next_query_at: at(qrExpiry, LAST_QUERY_DELAY_MS),
    });

    // The buyer scans the code still valid at Alipay and pays; the notification never arrives.
    await payAtSandbox(sb, o.qr_code_url, { delivery: 'drop' });
    await expireQrCodes.run(at(qrExpiry, LAST_QUERY_DELAY_MS - SECOND));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'pending', order_status: 'pending' }); // not due yet
    await expireQrCodes.run(at(qrExpiry, LAST_QUERY_DELAY_MS + SECOND));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'success', order_status: 'paid' });
  });

  it('Alipay: nobody scanned: the last query finds no trade and the attempt is closed then, once', async () => {
    const o = await createOrder(t, 'last-query-none', { payment_method: 'alipay' });
    const { qr_code_expire_at: qrExpiry } = await attempt(o.order_no);
    await expireQrCodes.run(at(qrExpiry, SECOND));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'pending', trade_state: 'TRADE_NOT_EXIST' });
    await expireQrCodes.run(at(qrExpiry, LAST_QUERY_DELAY_MS + SECOND));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'closed', next_query_at: null });
    const trade = (
      await sandboxCall(
        sb,
        'GET',
        `/sandbox/trades/${(await t.db.query(`SELECT payment_no FROM orders WHERE order_no = $1`, [o.order_no])).rows[0].payment_no}`,
      )
    ).body;
    expect(trade.state).toBe('NOT_SCANNED');
  });

  it('Alipay: a cancelled order whose code was paid afterwards is found by the last query and honoured', async () => {
    const o = await createOrder(t, 'last-query-cancel', { payment_method: 'alipay' });
    await t.http
      .post(`/api/v1/payment/orders/${o.order_no}/cancel`)
      .set('Authorization', `Bearer ${t.token('last-query-cancel')}`)
      .expect(200);
    const { qr_code_expire_at: qrExpiry, ...cancelled } = await attempt(o.order_no);
    expect(cancelled).toMatchObject({ status: 'pending', order_status: 'closed' });
    await payAtSandbox(sb, o.qr_code_url, { delivery: 'drop' });
    await expireQrCodes.run(at(qrExpiry, LAST_QUERY_DELAY_MS + SECOND));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'success', order_status: 'paid' });
  });

  it('an Alipay order past its expiry waits for the last query before it expires', async () => {
    const o = await createOrder(t, 'last-query-expire', { payment_method: 'alipay' });
    const {
      rows: [{ expire_at: expireAt }],
    } = await t.db.query(`SELECT expire_at FROM orders WHERE order_no = $1`, [o.order_no]);
    const expireOrders = t.app.get(ExpireOrdersJob);
    // The QR code expired long before; the close finds no trade: the order waits.
    await t.db.query(
      `UPDATE payment_records SET qr_code_expire_at = $2 WHERE payment_no = (SELECT payment_no FROM orders WHERE order_no = $1)`,
      [o.order_no, at(expireAt, -60 * SECOND)],
    );
    await expireOrders.run(at(expireAt, SECOND));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'pending', order_status: 'pending', trade_state: 'TRADE_NOT_EXIST' });
    await expireOrders.run(at(expireAt, 2 * LAST_QUERY_DELAY_MS));
    expect(await attempt(o.order_no)).toMatchObject({ status: 'closed', order_status: 'expired' });
  });

  it.each(['wechat', 'alipay'])(
    '%s: a close answered "paid" that the query does not confirm is retried later, never recorded as closed',
    async (method) => {
      const user = `claims-paid-${method}`;
      const o = await createOrder(t, user, { payment_method: method });
      if (method === 'alipay') await sandboxCall(sb, 'POST', '/sandbox/scan', { qr: o.qr_code_url }); // a trade to close
      const { qr_code_expire_at: qrExpiry } = await attempt(o.order_no);
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: method, op: 'close', mode: 'claims-paid', times: 1 });
      expect((await expireQrCodes.run(at(qrExpiry, SECOND))).failed).toBe(1);
      expect(await attempt(o.order_no)).toMatchObject({ status: 'pending', order_status: 'pending' });
      // The next run closes it for real.
      await expireQrCodes.run(at(qrExpiry, 2 * SECOND));
      expect(await attempt(o.order_no)).toMatchObject({ status: 'closed' });

      // Cancel: the member is told to try again, and the order stays pending.
      const again = await createOrder(t, user, { payment_method: method });
      if (method === 'alipay') await sandboxCall(sb, 'POST', '/sandbox/scan', { qr: again.qr_code_url });
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: method, op: 'close', mode: 'claims-paid', times: 1 });
      const refused = await t.http.post(`/api/v1/payment/orders/${again.order_no}/cancel`).set('Authorization', `Bearer ${t.token(user)}`);
      expect(refused.status).toBe(502);
      expect(await attempt(again.order_no)).toMatchObject({ status: 'pending', order_status: 'pending' });
    },
  );
});
