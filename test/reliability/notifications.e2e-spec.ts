import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { TcpProxy } from '../support/tcp-proxy';
import { createOrder as createOrderFor, postNotification } from '../support/orders';

describe('notifications under load and with the database unreachable', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    const admin = new URL(process.env.MEMBERPAY_TEST_ADMIN_URL!);
    proxy = await new TcpProxy(admin.hostname, Number(admin.port || 5432)).start();
  });
  // The service reaches PostgreSQL only through the proxy; the test's own client goes direct.
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), {
    sandbox: true,
    databaseUrl: (url) => proxy.url(url),
  });
  afterEach(async () => {
    proxy.restore();
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  const createOrder = (user: string, method = 'wechat') => createOrderFor(t, user, { payment_method: method });
  const post = (provider: string, n: { headers: Record<string, string>; body: string }) => postNotification(t, provider, n);

  it.each(['wechat', 'alipay'])('answers success to 200 concurrent copies of one %s notification and grants once', async (provider) => {
    const order = await createOrder(`storm-${provider}`, provider);
    const { body } = await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url, delivery: 'none' });
    const answers = await Promise.all(Array.from({ length: 200 }, () => post(provider, body.notification)));
    for (const a of answers) expect(a.status).toBeLessThan(300);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1`,
      [order.order_no],
    );
    expect(rows[0].n).toBe(1);
  });

  it('answers failure while the database is unreachable, then settles the retried notification once it is back', async () => {
    const order = await createOrder('outage-1');
    const { body } = await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url, delivery: 'none' });
    proxy.cut();
    const during = await post('wechat', body.notification);
    expect(during.status).toBeGreaterThanOrEqual(500);
    expect(await during.json()).toMatchObject({ code: 'FAIL' });
    const health = await t.http.get('/health');
    expect(health.status).toBe(503);
    const {
      rows: [untouched],
    } = await t.db.query(
      `SELECT o.status, pr.status AS record FROM orders o JOIN payment_records pr ON pr.payment_no = o.payment_no WHERE o.order_no = $1`,
      [order.order_no],
    );
    expect(untouched).toEqual({ status: 'pending', record: 'pending' });

    proxy.restore();
    let after: Response | undefined;
    for (let i = 0; i < 20 && after?.status !== 204; i++) {
      after = await post('wechat', body.notification); // WeChat Pay's resend
      if (after.status !== 204) await new Promise((r) => setTimeout(r, 250));
    }
    expect(after!.status).toBe(204);
    const {
      rows: [settled],
    } = await t.db.query(`SELECT status FROM orders WHERE order_no = $1`, [order.order_no]);
    expect(settled.status).toBe('paid');
  });

  it('loses nothing when the database drops in the middle of a burst of notifications and the sandbox keeps resending', async () => {
    const orders = await Promise.all(Array.from({ length: 20 }, (_, i) => createOrder(`burst-${i}`)));
    const paying = Promise.all(orders.map((o) => sandboxCall(sb, 'POST', '/sandbox/pay', { qr: o.qr_code_url })));
    setTimeout(() => proxy.cut(), 5);
    setTimeout(() => proxy.restore(), 400);
    await paying;
    // The sandbox resends on WeChat Pay's schedule (compressed): wait until every order is paid.
    const deadline = Date.now() + 60_000;
    let paid = 0;
    while (Date.now() < deadline) {
      const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM orders WHERE order_no = ANY($1) AND status = 'paid'`, [
        orders.map((o) => o.order_no),
      ]);
      paid = rows[0].n;
      if (paid === orders.length) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(paid).toBe(orders.length);
  });
});
