import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

const DAY = 86_400_000;

describe('paying with WeChat Pay through the sandbox', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), PROVIDER_TIMEOUT_MS: '1500' }), { sandbox: true });
  afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const createOrder = (user: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    t.http
      .post('/api/v1/payment/create-order')
      .set({ ...auth(user), ...headers })
      .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false, ...body });
  const pay = (qr: string, options: Record<string, unknown> = {}) => sandboxCall(sb, 'POST', '/sandbox/pay', { qr, ...options });
  const me = async (user: string) => (await t.http.get('/api/v1/membership/me').set(auth(user)).expect(200)).body;
  const orderRow = async (orderNo: string) => (await t.db.query('SELECT * FROM orders WHERE order_no = $1', [orderNo])).rows[0];
  const grants = async (orderNo: string) =>
    Number(
      (await t.db.query('SELECT count(*) FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1', [orderNo]))
        .rows[0].count,
    );

  /** Posts a prepared notification to the service, as WeChat Pay would. */
  const deliver = (n: { headers: Record<string, string>; body: string }) =>
    fetch(`${t.url}/api/v1/payment/wechat/callback`, { method: 'POST', headers: n.headers, body: n.body });

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
    const user = 'buyer-1';
    const created = await createOrder(user).expect(201);
    expect(created.body).toMatchObject({
      order_no: expect.stringMatching(/^[0-9A-Za-z]{20,32}$/),
      amount: 1990,
      currency: 'CNY',
      payment_method: 'wechat',
      status: 'pending',
      qr_code_url: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=/),
    });
    expect(Date.parse(created.body.qr_code_expire_at)).toBeGreaterThan(Date.now() + 14 * 60_000);
    expect(Date.parse(created.body.expire_at)).toBeGreaterThan(Date.now() + 29 * 60_000);

    const paid = await pay(created.body.qr_code_url);
    expect(paid.status).toBe(200);
    expect(paid.body.delivered).toBe(true);
    const order = await t.http.get(`/api/v1/payment/orders/${created.body.order_no}`).set(auth(user)).expect(200);
    expect(order.body).toMatchObject({ status: 'paid', paid_at: expect.any(String), qr_code_url: null });
    const first = await me(user);
    expect(first).toMatchObject({ active: true, level: 1 });
    expect(Math.abs(Date.parse(first.expires_at) - (Date.now() + 30 * DAY))).toBeLessThan(60_000);

    const renewal = await createOrder(user).expect(201);
    expect(renewal.body.amount).toBe(1990);
    await pay(renewal.body.qr_code_url);
    const renewed = await me(user);
    expect(Date.parse(renewed.expires_at) - Date.parse(first.expires_at)).toBe(30 * DAY);

    const upgrade = await createOrder(user, { product_id: 4, is_upgrade: true }).expect(201);
    // (3990 - 1990) / 30 fen a day for the ~60 days left, rounded up.
    expect(upgrade.body.amount).toBeGreaterThan(3990);
    expect(upgrade.body.amount).toBeLessThanOrEqual(4000);
    await pay(upgrade.body.qr_code_url);
    const upgraded = await me(user);
    expect(upgraded).toMatchObject({ level: 2, expires_at: renewed.expires_at });

    const records = await t.db.query(
      `SELECT pr.status, pr.transaction_id, pr.notify_payload FROM payment_records pr JOIN orders o ON o.id = pr.order_id WHERE o.user_id = $1`,
      [user],
    );
    expect(records.rows).toHaveLength(3);
    for (const r of records.rows) {
      expect(r.status).toBe('success');
      expect(r.transaction_id).toMatch(/^\d+$/);
      expect(r.notify_payload.trade_state).toBe('SUCCESS');
    }
  });

  it('grants once for 20 concurrent copies of one notification', async () => {
    const created = await createOrder('dup-1').expect(201);
    const prepared = await pay(created.body.qr_code_url, { delivery: 'none' });
    expect(prepared.body.notification).toBeDefined();
    const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(prepared.body.notification)));
    expect(answers.map((a) => a.status).every((s) => s === 200 || s === 204)).toBe(true);
    expect(await grants(created.body.order_no)).toBe(1);
    expect((await orderRow(created.body.order_no)).status).toBe('paid');
    expect((await me('dup-1')).level).toBe(1);
    const events = await t.db.query(`SELECT type, payload FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.order_no = $1`, [
      created.body.order_no,
    ]);
    expect(events.rows).toEqual([
      { type: 'order.paid', payload: expect.objectContaining({ order_no: created.body.order_no, amount: 1990 }) },
    ]);
  });

  it.each(['public-key', 'platform-cert'])('accepts a notification signed in %s mode', async (signWith) => {
    const created = await createOrder(`sig-${signWith}`).expect(201);
    const paid = await pay(created.body.qr_code_url, { signWith });
    expect(paid.body.delivered).toBe(true);
    expect((await orderRow(created.body.order_no)).status).toBe('paid');
  });

  it.each([
    ['a tampered signature', { tamper: 'signature' }],
    ['a probe signature', { tamper: 'probe' }],
    ['an unknown serial', { tamper: 'unknown-serial' }],
    ['a key we do not know', { tamper: 'wrong-key' }],
    ['a stale timestamp', { tamper: 'stale-timestamp' }],
    ['a malformed body', { tamper: 'malformed-body' }],
    ['a wrong amount', { override: { amount: { total: 1 } } }],
    ['another merchant', { override: { mchid: '1999999999' } }],
    ['another app', { override: { appid: 'wx0000000000000000' } }],
    ['an unknown order', { override: { out_trade_no: 'MPUNKNOWN000000000000000000' } }],
  ])('rejects %s with a 4xx and changes nothing', async (_name, options) => {
    const created = await createOrder(`reject-${Math.random()}`).expect(201);
    const prepared = await pay(created.body.qr_code_url, { delivery: 'none', ...options });
    const answer = await deliver(prepared.body.notification);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(await answer.json()).toEqual({ code: 'FAIL', message: expect.any(String) });
    const row = await orderRow(created.body.order_no);
    expect(row.status).toBe('pending');
    const record = (await t.db.query('SELECT status, notify_payload FROM payment_records WHERE order_id = $1', [row.id])).rows[0];
    expect(record).toEqual({ status: 'pending', notify_payload: null });
    expect(await grants(created.body.order_no)).toBe(0);
  });

  it('rejects a body that is not a notification at all', async () => {
    const answer = await fetch(`${t.url}/api/v1/payment/wechat/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"not":',
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ code: 'FAIL' });
  });

  it("hides another user's orders", async () => {
    const created = await createOrder('owner-1').expect(201);
    for (const req of [
      t.http.get(`/api/v1/payment/orders/${created.body.order_no}`),
      t.http.post(`/api/v1/payment/orders/${created.body.order_no}/cancel`),
      t.http.post(`/api/v1/payment/orders/${created.body.order_no}/qr-code`),
    ]) {
      const res = await req.set(auth('intruder-1')).expect(404);
      expect(res.body.code).toBe('ORDER_NOT_FOUND');
    }
    const list = await t.http.get('/api/v1/payment/orders').set(auth('intruder-1')).expect(200);
    expect(list.body).toEqual({ data: [], has_more: false });
  });

  it("lists the caller's orders newest first, a page at a time", async () => {
    const user = 'lister-1';
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await createOrder(user).expect(201)).body.order_no);
    const page1 = await t.http.get('/api/v1/payment/orders?limit=2').set(auth(user)).expect(200);
    expect(page1.body.data.map((o: { order_no: string }) => o.order_no)).toEqual([made[2], made[1]]);
    expect(page1.body.has_more).toBe(true);
    const page2 = await t.http.get(`/api/v1/payment/orders?limit=2&starting_after=${made[1]}`).set(auth(user)).expect(200);
    expect(page2.body).toMatchObject({ data: [{ order_no: made[0] }], has_more: false });
    await t.http.get('/api/v1/payment/orders?limit=0').set(auth(user)).expect(400);
  });

  it('cancels: closes the attempt at WeChat Pay and the order; a paid order is a 409', async () => {
    const created = await createOrder('canceller-1').expect(201);
    const cancelled = await t.http.post(`/api/v1/payment/orders/${created.body.order_no}/cancel`).set(auth('canceller-1')).expect(200);
    expect(cancelled.body.status).toBe('closed');
    const row = await orderRow(created.body.order_no);
    const events = await t.db.query(`SELECT type FROM order_events WHERE order_id = $1`, [row.id]);
    expect(events.rows).toEqual([{ type: 'order.closed' }]);
    const trade = await sandboxCall(sb, 'GET', `/sandbox/trades/${row.payment_no}`);
    expect(JSON.stringify(trade.body)).toMatch(/CLOSED/);
    expect((await pay(created.body.qr_code_url)).status).toBeGreaterThanOrEqual(400); // the buyer can no longer pay

    const paidOrder = await createOrder('canceller-2').expect(201);
    await pay(paidOrder.body.qr_code_url);
    const refused = await t.http.post(`/api/v1/payment/orders/${paidOrder.body.order_no}/cancel`).set(auth('canceller-2')).expect(409);
    expect(refused.body.code).toBe('ORDER_ALREADY_PAID');
  });

  it('honours a payment that arrives after the order was cancelled', async () => {
    const created = await createOrder('late-1').expect(201);
    const prepared = await pay(created.body.qr_code_url, { delivery: 'none' });
    await t.db.query(`UPDATE orders SET status = 'closed' WHERE order_no = $1`, [created.body.order_no]); // cancelled locally, close lost
    expect((await deliver(prepared.body.notification)).status).toBeLessThan(300);
    expect((await orderRow(created.body.order_no)).status).toBe('paid');
    expect((await me('late-1')).level).toBe(1);
  });

  it('issues a fresh QR code as a new attempt and closes the old one', async () => {
    const created = await createOrder('refresh-1').expect(201);
    const before = await orderRow(created.body.order_no);
    const refreshed = await t.http.post(`/api/v1/payment/orders/${created.body.order_no}/qr-code`).set(auth('refresh-1')).expect(200);
    const after = await orderRow(created.body.order_no);
    expect(after.payment_no).not.toBe(before.payment_no);
    expect(refreshed.body.qr_code_url).not.toBe(created.body.qr_code_url);
    const old = await sandboxCall(sb, 'GET', `/sandbox/trades/${before.payment_no}`);
    expect(JSON.stringify(old.body)).toMatch(/CLOSED/);
    await pay(refreshed.body.qr_code_url);
    expect((await orderRow(created.body.order_no)).status).toBe('paid');
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer for the same key and body', async () => {
      const first = await createOrder('idem-1', {}, { 'Idempotency-Key': 'k-1' }).expect(201);
      const second = await createOrder('idem-1', {}, { 'Idempotency-Key': 'k-1' }).expect(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(Number((await t.db.query(`SELECT count(*) FROM orders WHERE user_id = 'idem-1'`)).rows[0].count)).toBe(1);
    });

    it('keeps keys apart per user', async () => {
      const a = await createOrder('idem-2a', {}, { 'Idempotency-Key': 'shared' }).expect(201);
      const b = await createOrder('idem-2b', {}, { 'Idempotency-Key': 'shared' }).expect(201);
      expect(a.body.order_no).not.toBe(b.body.order_no);
    });

    it('refuses the same key with another body', async () => {
      await createOrder('idem-3', {}, { 'Idempotency-Key': 'k-3' }).expect(201);
      const res = await createOrder('idem-3', { product_id: 2 }, { 'Idempotency-Key': 'k-3' }).expect(409);
      expect(res.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    });

    it('refuses a second request while the first is in flight', async () => {
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'native', mode: 'hang', times: 1 });
      const first = createOrder('idem-4', {}, { 'Idempotency-Key': 'k-4' }).then((r) => r);
      await new Promise((r) => setTimeout(r, 300));
      const second = await createOrder('idem-4', {}, { 'Idempotency-Key': 'k-4' }).expect(409);
      expect(second.body.code).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
      expect((await first).status).toBe(504);
    });

    it('replays a 4xx answer, and lets a retry through after a 5xx', async () => {
      const missing = await createOrder('idem-5', { product_id: 999 }, { 'Idempotency-Key': 'k-5' }).expect(404);
      const replay = await createOrder('idem-5', { product_id: 999 }, { 'Idempotency-Key': 'k-5' }).expect(404);
      expect(replay.body.code).toBe(missing.body.code);
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'native', mode: 'error-500', times: 1 });
      await createOrder('idem-5', {}, { 'Idempotency-Key': 'k-6' }).expect(502);
      await createOrder('idem-5', {}, { 'Idempotency-Key': 'k-6' }).expect(201);
    });
  });

  describe('when WeChat Pay fails', () => {
    it.each([
      ['answers 500', 'error-500', 502, 'PROVIDER_UNAVAILABLE'],
      ['answers garbage', 'garbage', 502, 'PROVIDER_UNAVAILABLE'],
      ['forges its answer', 'bad-signature', 502, 'PROVIDER_UNAVAILABLE'],
      ['hangs', 'hang', 504, 'PROVIDER_TIMEOUT'],
    ])('%s: create-order is a %s and no order is left pending without a QR code', async (_name, mode, status, code) => {
      const user = `outage-${mode}`;
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'native', mode });
      const started = Date.now();
      const res = await createOrder(user).expect(status);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(res.body).toMatchObject({ statusCode: status, code, message: expect.stringMatching(/WeChat Pay/) });
      const rows = (await t.db.query(`SELECT status, qr_code_url FROM orders WHERE user_id = $1`, [user])).rows;
      expect(rows).toEqual([{ status: 'failed', qr_code_url: null }]);
    });
  });

  describe('bad input', () => {
    it.each([
      [{ product_id: 'one' }, /product_id/],
      [{ product_id: -1 }, /product_id/],
      [{ product_id: 1.5 }, /product_id/],
      [{ payment_method: 'paypal' }, /payment_method/],
      [{ product_type: 'gift' }, /product_type/],
      [{ is_upgrade: 'yes' }, /is_upgrade/],
      [{ extra: 1 }, /extra/],
    ])('answers %j with a 400 naming the field', async (patch, field) => {
      const res = await createOrder('bad-1', patch).expect(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(res.body.message)).toMatch(field);
    });

    it('answers an unknown or inactive product with 404', async () => {
      expect((await createOrder('bad-2', { product_id: 77 }).expect(404)).body.code).toBe('PRODUCT_NOT_FOUND');
    });

    it('answers an upgrade without a membership with a 409 saying what to do', async () => {
      const res = await createOrder('bad-3', { product_id: 4, is_upgrade: true }).expect(409);
      expect(res.body).toMatchObject({ code: 'MEMBERSHIP_CONFLICT', message: expect.stringMatching(/is_upgrade set to false/) });
    });
  });
});
