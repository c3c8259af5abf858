import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

const DAY = 86_400_000;

describe('paying with Alipay through the sandbox', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), PROVIDER_TIMEOUT_MS: '1500' }), { sandbox: true });
  afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const createOrder = (user: string, body: Record<string, unknown> = {}) =>
    t.http
      .post('/api/v1/payment/create-order')
      .set(auth(user))
      .send({ product_type: 'membership', product_id: 1, payment_method: 'alipay', is_upgrade: false, ...body });
  const pay = (qr: string, options: Record<string, unknown> = {}) => sandboxCall(sb, 'POST', '/sandbox/pay', { qr, ...options });
  const me = async (user: string) => (await t.http.get('/api/v1/membership/me').set(auth(user)).expect(200)).body;
  const orderRow = async (orderNo: string) => (await t.db.query('SELECT * FROM orders WHERE order_no = $1', [orderNo])).rows[0];
  const recordOf = async (orderNo: string) =>
    (
      await t.db.query(
        'SELECT pr.status, pr.trade_state, pr.notify_payload FROM payment_records pr JOIN orders o ON o.id = pr.order_id WHERE o.order_no = $1',
        [orderNo],
      )
    ).rows[0];
  const grants = async (orderNo: string) =>
    Number(
      (await t.db.query('SELECT count(*) FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1', [orderNo]))
        .rows[0].count,
    );
  const deliver = (n: { headers: Record<string, string>; body: string }) =>
    fetch(`${t.url}/api/v1/payment/alipay/callback`, { method: 'POST', headers: n.headers, body: n.body });

  it("puts the plan's Chinese name and the kind of purchase on the buyer's bill", async () => {
    const user = 'bill-reader';
    // What the provider was sent, as the sandbox holds it under the attempt's out_trade_no.
    const title = async (orderNo: string) => {
      const { rows } = await t.db.query(
        'SELECT pr.payment_no FROM payment_records pr JOIN orders o ON o.id = pr.order_id WHERE o.order_no = $1',
        [orderNo],
      );
      return (await sandboxCall(sb, 'GET', `/sandbox/trades/${rows[0].payment_no}`)).body.title;
    };
    const first = await createOrder(user).expect(201);
    expect(first.body.description).toBe('基础会员·月度 开通');
    expect(await title(first.body.order_no)).toBe('基础会员·月度 开通');
    await pay(first.body.qr_code_url);
    const renewal = await createOrder(user, { product_id: 2 }).expect(201);
    expect(await title(renewal.body.order_no)).toBe('基础会员·季度 续费');
  });

  it('buys, renews and upgrades, each ending paid with the right level and expiry', async () => {
    const user = 'ali-buyer';
    const created = await createOrder(user).expect(201);
    expect(created.body).toMatchObject({
      amount: 1990,
      payment_method: 'alipay',
      status: 'pending',
      qr_code_url: expect.stringMatching(/^https:\/\/qr\.alipay\.com\//),
    });
    const paid = await pay(created.body.qr_code_url);
    expect(paid.body.delivered).toBe(true);
    expect((await orderRow(created.body.order_no)).status).toBe('paid');
    const first = await me(user);
    expect(first).toMatchObject({ active: true, level: 1 });

    const renewal = await createOrder(user).expect(201);
    await pay(renewal.body.qr_code_url);
    expect(Date.parse((await me(user)).expires_at) - Date.parse(first.expires_at)).toBe(30 * DAY);

    const upgrade = await createOrder(user, { product_id: 4, is_upgrade: true }).expect(201);
    await pay(upgrade.body.qr_code_url);
    expect(await me(user)).toMatchObject({ level: 2 });
    const record = await recordOf(upgrade.body.order_no);
    expect(record).toMatchObject({ status: 'success', trade_state: 'TRADE_SUCCESS' });
  });

  it('settles TRADE_FINISHED too', async () => {
    const created = await createOrder('ali-finished').expect(201);
    await pay(created.body.qr_code_url, { tradeStatus: 'TRADE_FINISHED' });
    expect((await orderRow(created.body.order_no)).status).toBe('paid');
  });

  it('grants once for duplicate and concurrent notifications', async () => {
    const created = await createOrder('ali-dup').expect(201);
    const prepared = await pay(created.body.qr_code_url, { delivery: 'none' });
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(prepared.body.notification)));
    for (const a of answers) expect(await a.text()).toBe('success');
    expect((await deliver(prepared.body.notification)).status).toBe(200);
    expect(await grants(created.body.order_no)).toBe(1);
  });

  it('compares amounts in fen: 29.9 is 29.90', async () => {
    await t.db.query(`UPDATE membership_plans SET price = 2990 WHERE id = 2`);
    try {
      const created = await createOrder('ali-2990', { product_id: 2 }).expect(201);
      expect(created.body.amount).toBe(2990);
      const answer = await pay(created.body.qr_code_url, { override: { total_amount: '29.9' } });
      expect(answer.body.delivered).toBe(true);
      expect((await orderRow(created.body.order_no)).status).toBe('paid');
    } finally {
      await t.db.query(`UPDATE membership_plans SET price = 5490 WHERE id = 2`);
    }
  });

  it('verifies a subject with % and Chinese characters', async () => {
    await t.db.query(`UPDATE membership_plans SET name_zh = '黄金会员 100% 满意' WHERE id = 3`);
    try {
      const created = await createOrder('ali-subject', { product_id: 3 }).expect(201);
      const answer = await pay(created.body.qr_code_url);
      expect(answer.body.delivered).toBe(true);
      const record = await recordOf(created.body.order_no);
      expect(record.notify_payload.subject).toContain('100% 满意');
      expect((await orderRow(created.body.order_no)).status).toBe('paid');
    } finally {
      await t.db.query(`UPDATE membership_plans SET name_zh = '基础会员·年度' WHERE id = 3`);
    }
  });

  it.each([
    ['a forged signature', { tamper: 'signature' }],
    ['a key we do not know', { tamper: 'wrong-key' }],
    ['another app_id', { override: { app_id: '2021999999999999' } }],
    ['another seller_id', { override: { seller_id: '2088999999999999' } }],
    ['an amount 0.01 off', { override: { total_amount: '19.89' } }],
    ['an amount that is not yuan', { override: { total_amount: '19.9.0' } }],
    ['an unknown order', { override: { out_trade_no: 'MPNOPE00000000000000000000' } }],
  ])('rejects %s, answering failure and changing nothing', async (_name, options) => {
    const created = await createOrder(`ali-reject-${Math.random()}`).expect(201);
    const prepared = await pay(created.body.qr_code_url, { delivery: 'none', ...options });
    const answer = await deliver(prepared.body.notification);
    expect(await answer.text()).toBe('failure');
    expect((await orderRow(created.body.order_no)).status).toBe('pending');
    expect(await recordOf(created.body.order_no)).toMatchObject({ status: 'pending', notify_payload: null });
    expect(await grants(created.body.order_no)).toBe(0);
  });

  it('changes nothing on WAIT_BUYER_PAY and records TRADE_CLOSED on the attempt', async () => {
    const created = await createOrder('ali-wait').expect(201);
    const waiting = await pay(created.body.qr_code_url, { tradeStatus: 'WAIT_BUYER_PAY' });
    expect(waiting.body.delivered).toBe(true);
    expect(await recordOf(created.body.order_no)).toMatchObject({ status: 'pending', notify_payload: null });
    expect((await orderRow(created.body.order_no)).status).toBe('pending');
    await pay(created.body.qr_code_url, { tradeStatus: 'TRADE_CLOSED', pay: false });
    expect(await recordOf(created.body.order_no)).toMatchObject({ status: 'closed', trade_state: 'TRADE_CLOSED' });
    expect(await grants(created.body.order_no)).toBe(0);
  });

  it('refuses a forged gateway answer with a 502 and leaves no pending order', async () => {
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'precreate', mode: 'bad-signature' });
    const res = await createOrder('ali-forged').expect(502);
    expect(res.body).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', message: expect.stringMatching(/Alipay/) });
    expect((await t.db.query(`SELECT status FROM orders WHERE user_id = 'ali-forged'`)).rows).toEqual([{ status: 'failed' }]);
  });

  it('answers a hanging gateway with a 504 within the bound', async () => {
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'precreate', mode: 'hang' });
    const started = Date.now();
    await createOrder('ali-hang').expect(504);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('cancels an order whose QR code was never scanned', async () => {
    const created = await createOrder('ali-cancel').expect(201);
    await t.http.post(`/api/v1/payment/orders/${created.body.order_no}/cancel`).set(auth('ali-cancel')).expect(200);
    expect((await orderRow(created.body.order_no)).status).toBe('closed');
  });

  it('shows the order on the return page only with a valid signature, and never settles from it', async () => {
    const created = await createOrder('ali-return').expect(201);
    const prepared = await pay(created.body.qr_code_url, { delivery: 'none' });
    const query = prepared.body.notification.body as string;
    const good = await t.http.get(`/payment/return?${query}`).expect(200);
    expect(good.text).toContain(created.body.order_no);
    expect(good.text).toContain('Waiting for the payment');
    // In Chinese with English beside it, in the checkout page's look, with a way back.
    expect(good.text).toContain('正在等待支付结果确认');
    expect(good.text).toContain('<link rel="stylesheet" href="/checkout/styles.css">');
    expect(good.text).toContain('<a class="return-back" href="/">');
    expect(good.text).toContain('基础会员·月度 开通');
    expect((await orderRow(created.body.order_no)).status).toBe('pending');
    const forged = await t.http.get(`/payment/return?${query.replace(/total_amount=[^&]+/, 'total_amount=0.01')}`).expect(200);
    expect(forged.text).toContain('signature could not be verified');
    expect(forged.text).not.toContain(created.body.order_no);
  });
});

describe('a service without Alipay configured', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port, { wechat: true }), { sandbox: true });

  it('boots, keeps WeChat Pay working and refuses Alipay orders with a 400', async () => {
    const auth = { Authorization: `Bearer ${t.token('no-ali')}` };
    const refused = await t.http
      .post('/api/v1/payment/create-order')
      .set(auth)
      .send({ product_type: 'membership', product_id: 1, payment_method: 'alipay' })
      .expect(400);
    expect(refused.body).toMatchObject({ code: 'PAYMENT_METHOD_DISABLED', message: 'Alipay is not enabled on this service' });
    await t.http
      .post('/api/v1/payment/create-order')
      .set(auth)
      .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat' })
      .expect(201);
    expect((await t.db.query(`SELECT count(*) FROM orders WHERE payment_method = 'alipay'`)).rows[0].count).toBe('0');
  });
});
