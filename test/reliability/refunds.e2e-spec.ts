import { useApp } from '../support/lifecycle';
import { paidOrder, refundRow, requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { TcpProxy } from '../support/tcp-proxy';

/** Refunds when the database goes away: nothing is refunded twice, nothing is lost. */
describe('refunds with the database unreachable', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    const admin = new URL(process.env.MEMBERPAY_TEST_ADMIN_URL!);
    proxy = await new TcpProxy(admin.hostname, Number(admin.port || 5432)).start();
  });
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), {
    sandbox: true,
    databaseUrl: (url) => proxy.url(url),
  });
  afterEach(async () => {
    proxy.restore();
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('refuses a refund request while the database is down, calling no provider', async () => {
    const order = await paidOrder(t, sb, 'rel-rf-down', 'alipay');
    proxy.cut();
    const during = await requestRefund(t, order.order_no, { reason: 'outage' });
    expect(during.status).toBeGreaterThanOrEqual(500);
    proxy.restore();
    const { rows } = await t.db.query(`SELECT 1 FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`, [order.order_no]);
    expect(rows).toHaveLength(0);
    const trade = await sandboxCall(
      sb,
      'GET',
      `/sandbox/trades/${(await t.db.query('SELECT payment_no FROM orders WHERE order_no = $1', [order.order_no])).rows[0].payment_no}`,
    );
    expect(trade.body.state).toBe('TRADE_SUCCESS'); // nothing refunded at Alipay
  });

  it('answers a refund notification with a retry while the database is down, and applies the resend once it is back', async () => {
    const order = await paidOrder(t, sb, 'rel-rf-notify');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    const res = await requestRefund(t, order.order_no, { reason: 'outage notify' }).expect(202);
    const { body } = await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', { out_refund_no: res.body.refund_no, delivery: 'none' });
    const post = () =>
      fetch(`${t.url}/api/v1/payment/wechat/refund-callback`, {
        method: 'POST',
        headers: body.notification.headers,
        body: body.notification.body,
      });
    proxy.cut();
    const during = await post();
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(await during.json()).toMatchObject({ code: 'FAIL' });
    proxy.restore();
    expect((await refundRow(t, res.body.refund_no, () => true)).status).toBe('processing');
    let after: Response | undefined;
    for (let i = 0; i < 20 && after?.status !== 204; i++) {
      after = await post(); // WeChat Pay's resend
      if (after.status !== 204) await new Promise((r) => setTimeout(r, 250));
    }
    expect(after!.status).toBe(204);
    expect(await refundRow(t, res.body.refund_no)).toMatchObject({ status: 'success' });
  });
});
