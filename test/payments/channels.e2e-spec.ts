import fc from 'fast-check';
import { beijingDayOf } from '../../src/common/beijing-day';
import { ReconciliationService } from '../../src/reconciliation/reconciliation.service';
import { ExpireQrCodesJob } from '../../src/payments/expire-qr-codes.job';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

const MINUTE = 60_000;

/**
 * Every channel end to end over HTTP: memberpay opens the payment, the sandbox checks what the
 * client received as the real client (or Alipay) would, the buyer pays, the notification settles
 * the order once. Refunds are not exercised here.
 */
describe('paying from a phone: every channel through the sandbox', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), PAYMENT_RETURN_URL_ORIGINS: `http://127.0.0.1:${port}` }), {
    sandbox: true,
  });

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const createOrder = (user: string, body: Record<string, unknown>) =>
    t.http
      .post('/api/v1/payment/create-order')
      .set(auth(user))
      .send({ product_type: 'membership', product_id: 1, is_upgrade: false, ...body });
  const pay = (body: Record<string, unknown>) => sandboxCall(sb, 'POST', '/sandbox/pay', body);
  const orderOf = async (user: string, orderNo: string) =>
    (await t.http.get(`/api/v1/payment/orders/${orderNo}`).set(auth(user)).expect(200)).body;
  const attempts = async (orderNo: string) =>
    (
      await t.db.query(
        `SELECT pr.payment_no, pr.channel, pr.status, pr.notify_payload, pr.qr_code_expire_at
       FROM payment_records pr JOIN orders o ON o.id = pr.order_id WHERE o.order_no = $1 ORDER BY pr.created_at`,
        [orderNo],
      )
    ).rows;
  const grants = async (orderNo: string) =>
    Number(
      (await t.db.query('SELECT count(*) FROM membership_grants g JOIN orders o ON o.id = g.order_id WHERE o.order_no = $1', [orderNo]))
        .rows[0].count,
    );
  /** One character of a base64 signature changed: well-formed, never valid. */
  const spoil = (signature: string) => `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;

  async function expectPaidOnce(user: string, orderNo: string, channel: string) {
    const order = await orderOf(user, orderNo);
    expect(order).toMatchObject({ status: 'paid', channel, pay: null, qr_code_url: null });
    expect(await grants(orderNo)).toBe(1);
    const rows = await attempts(orderNo);
    expect(rows.filter((r) => r.status === 'success')).toHaveLength(1);
    expect(rows.every((r) => r.channel === channel)).toBe(true);
    const me = (await t.http.get('/api/v1/membership/me').set(auth(user)).expect(200)).body;
    expect(me).toMatchObject({ active: true, level: 1 });
  }

  it('keeps the QR code as the default channel, answered as before and under pay', async () => {
    const created = (await createOrder('qr-1', { payment_method: 'wechat' }).expect(201)).body;
    expect(created).toMatchObject({ channel: 'qr', qr_code_url: expect.stringMatching(/^weixin:\/\//) });
    expect(created.pay).toEqual({ channel: 'qr', expires_at: created.qr_code_expire_at, qr_code_url: created.qr_code_url });
    expect((await pay({ qr: created.qr_code_url })).body.delivered).toBe(true);
    await expectPaidOnce('qr-1', created.order_no, 'qr');
  });

  it('WeChat APP: the PayReq is signed with the merchant key; a wrong sign fails at WeChat, the right one pays once', async () => {
    const created = (await createOrder('app-1', { payment_method: 'wechat', channel: 'app' }).expect(201)).body;
    const req = created.pay;
    expect(req).toEqual({
      channel: 'app',
      expires_at: expect.any(String),
      appid: sb.credentials.wechat.appAppId,
      partnerid: sb.credentials.wechat.mchId,
      prepayid: expect.stringMatching(/^wx\d{14}/),
      package: 'Sign=WXPay',
      noncestr: expect.stringMatching(/^[0-9A-Za-z]{32}$/),
      timestamp: expect.stringMatching(/^\d{10}$/),
      sign: expect.any(String),
    });
    expect(created.qr_code_url).toBeNull();
    // Reading the order again gives the same parameters (an app restarted mid-payment can resume).
    expect((await orderOf('app-1', created.order_no)).pay).toEqual(req);
    const payReq = {
      appid: req.appid,
      partnerid: req.partnerid,
      prepayid: req.prepayid,
      package: req.package,
      noncestr: req.noncestr,
      timestamp: req.timestamp,
      sign: req.sign,
    };

    const forged = await pay({ wechat_app: { ...payReq, sign: spoil(payReq.sign) } });
    expect(forged.status).toBe(400);
    expect(forged.body.error).toMatch(/sign does not verify/);
    const otherApp = await pay({ wechat_app: { ...payReq, appid: sb.credentials.wechat.appId } });
    expect(otherApp.status).toBe(400);
    expect((await orderOf('app-1', created.order_no)).status).toBe('pending');

    // The whole `pay` object, as the README's example passes it.
    const paid = await pay({ wechat_app: req, delivery: 'duplicate' });
    expect(paid.status).toBe(200);
    expect(paid.body).toMatchObject({ provider: 'wechat', trade_state: 'SUCCESS', delivered: true });
    await expectPaidOnce('app-1', created.order_no, 'app');
    const [attempt] = await attempts(created.order_no);
    expect(attempt.notify_payload).toMatchObject({ trade_type: 'APP', appid: sb.credentials.wechat.appAppId });
    expect((await t.http.get('/metrics').expect(200)).text).toMatch(
      /memberpay_orders_created_total\{method="wechat",channel="app"\} [1-9]/,
    );
  });

  it("WeChat JSAPI: the payer's openid under the mini program; paySign verified by the client; only that payer pays", async () => {
    const { openid } = (await sandboxCall(sb, 'POST', '/sandbox/wechat/openid', { appid: sb.credentials.wechat.miniProgramAppId })).body;
    const missing = await createOrder('jsapi-1', { payment_method: 'wechat', channel: 'jsapi' }).expect(400);
    expect(missing.body).toMatchObject({ code: 'VALIDATION_FAILED', message: ['openid is required for the jsapi channel'] });
    const foreign = await createOrder('jsapi-1', {
      payment_method: 'wechat',
      channel: 'jsapi',
      openid,
      app_id: 'wx0000000000000000',
    }).expect(400);
    expect(foreign.body.message[0]).toMatch(/WECHAT_PAY_JSAPI_APP_IDS/);
    // The openid belongs to the mini program, not to the default (official account) app id: WeChat
    // Pay refuses it (PARAM_ERROR), a refusal of the client's input, so a 400 that names what to
    // send, and no order is kept (none failed, none pending): the buyer pays a new one, by this
    // channel with the right app id or by another.
    const mismatched = await createOrder('jsapi-1', { payment_method: 'wechat', channel: 'jsapi', openid }).expect(400);
    expect(mismatched.body.code).toBe('PAYER_REFUSED');
    expect(mismatched.body.message).toMatch(/openid/);
    const ordersOf = async (user: string) =>
      (
        await t.db.query(
          `SELECT o.status, count(pr.*)::int AS attempts FROM orders o LEFT JOIN payment_records pr ON pr.order_id = o.id
                          WHERE o.user_id = $1 GROUP BY o.id`,
          [user],
        )
      ).rows;
    expect(await ordersOf('jsapi-1')).toEqual([]);
    const inChinese = await createOrder('jsapi-1', { payment_method: 'wechat', channel: 'jsapi', openid }).set('Accept-Language', 'zh-CN');
    expect(inChinese.status).toBe(400);
    expect(inChinese.body.message).toMatch(/openid/);
    expect(inChinese.body.message).toMatch(/其他支付方式/);
    // The same request with an Idempotency-Key: refused the same way, the refusal kept for its retry.
    const keyed = () =>
      createOrder('jsapi-1', { payment_method: 'wechat', channel: 'jsapi', openid }).set('Idempotency-Key', 'jsapi-refused-1');
    expect((await keyed().expect(400)).body.code).toBe('PAYER_REFUSED');
    expect((await keyed().expect(400)).body.code).toBe('PAYER_REFUSED');
    expect(await ordersOf('jsapi-1')).toEqual([]);
    const byQr = (await createOrder('jsapi-1', { payment_method: 'wechat' }).expect(201)).body;
    expect(byQr.pay.channel).toBe('qr');
    await t.http.post(`/api/v1/payment/orders/${byQr.order_no}/cancel`).set(auth('jsapi-1')).expect(200);

    const created = (
      await createOrder('jsapi-1', {
        payment_method: 'wechat',
        channel: 'jsapi',
        openid,
        app_id: sb.credentials.wechat.miniProgramAppId,
      }).expect(201)
    ).body;
    const { channel, expires_at, ...params } = created.pay;
    expect(channel).toBe('jsapi');
    expect(Date.parse(expires_at)).toBeGreaterThan(Date.now());
    expect(params).toEqual({
      appId: sb.credentials.wechat.miniProgramAppId,
      timeStamp: expect.stringMatching(/^\d{10}$/),
      nonceStr: expect.stringMatching(/^[0-9A-Za-z]{32}$/),
      package: expect.stringMatching(/^prepay_id=wx/),
      signType: 'RSA',
      paySign: expect.any(String),
    });
    expect((await pay({ wechat_jsapi: { ...params, paySign: spoil(params.paySign) } })).status).toBe(400);
    expect((await pay({ wechat_jsapi: { ...params, nonceStr: 'x'.repeat(32) } })).status).toBe(400);
    const stranger = await pay({ wechat_jsapi: params, openid: 'oSomebodyElse' });
    expect(stranger.status).toBe(400);
    expect(stranger.body.error).toMatch(/not the order's payer/);

    expect((await pay({ wechat_jsapi: params, openid })).body.delivered).toBe(true);
    await expectPaidOnce('jsapi-1', created.order_no, 'jsapi');
    const [attempt] = await attempts(created.order_no);
    expect(attempt.notify_payload).toMatchObject({ trade_type: 'JSAPI', payer: { openid } });
  });

  it('WeChat H5: an h5_url good for 5 minutes with our redirect_url; once expired, …/refresh issues a fresh one that pays', async () => {
    const created = (await createOrder('h5-1', { payment_method: 'wechat', channel: 'h5', h5_type: 'Android' }).expect(201)).body;
    const h5Url = new URL(created.pay.h5_url);
    expect(h5Url.searchParams.get('redirect_url')).toBe(`${sb.url}/sandbox/merchant-return`);
    expect(Date.parse(created.pay.expires_at) - Date.parse(created.created_at)).toBeLessThanOrEqual(5 * MINUTE);
    const [first] = await attempts(created.order_no);

    // Five minutes on: the sandbox's trade has passed its time_expire, and the expiry job closes the attempt.
    await sandboxCall(sb, 'POST', '/sandbox/expire', { out_trade_no: first.payment_no });
    const report = await t.app.get(ExpireQrCodesJob).run(new Date(first.qr_code_expire_at.getTime() + 1000));
    expect(report).toMatchObject({ claimed: 1, closed: 1 });
    expect((await pay({ h5_url: created.pay.h5_url })).status).toBe(409);
    expect((await orderOf('h5-1', created.order_no)).status).toBe('pending');

    const refreshed = (await t.http.post(`/api/v1/payment/orders/${created.order_no}/refresh`).set(auth('h5-1')).expect(200)).body;
    expect(refreshed).toMatchObject({ status: 'pending', channel: 'h5', pay: { channel: 'h5', h5_url: expect.any(String) } });
    expect(refreshed.pay.h5_url).not.toBe(created.pay.h5_url);
    expect(new URL(refreshed.pay.h5_url).searchParams.get('redirect_url')).toBe(`${sb.url}/sandbox/merchant-return`);
    const paid = await pay({ h5_url: refreshed.pay.h5_url });
    expect(paid.body).toMatchObject({ delivered: true, redirect_url: `${sb.url}/sandbox/merchant-return` });
    await expectPaidOnce('h5-1', created.order_no, 'h5');
    const rows = await attempts(created.order_no);
    expect(rows.map((r) => r.status)).toEqual(['closed', 'success']);
    expect(rows[1].notify_payload.trade_type).toBe('MWEB');
  });

  it("WeChat H5 takes the caller's return_url on an allowed origin, and keeps it for a refreshed attempt", async () => {
    const back = `${t.url}/orders/done?from=h5`;
    const h5 = (await createOrder('ret-1', { payment_method: 'wechat', channel: 'h5', return_url: back }).expect(201)).body;
    expect(new URL(h5.pay.h5_url).searchParams.get('redirect_url')).toBe(back);
    // A refreshed attempt keeps the caller's choice.
    const again = (await t.http.post(`/api/v1/payment/orders/${h5.order_no}/refresh`).set(auth('ret-1')).expect(200)).body;
    expect(new URL(again.pay.h5_url).searchParams.get('redirect_url')).toBe(back);
    const paid = await pay({ h5_url: again.pay.h5_url });
    expect(paid.body.redirect_url).toBe(back);
    await expectPaidOnce('ret-1', h5.order_no, 'h5');
  });

  it('a lost notification is found by the same close and query as for a QR code: cancelling a paid H5 order settles it', async () => {
    const created = (await createOrder('lost-1', { payment_method: 'wechat', channel: 'h5' }).expect(201)).body;
    expect((await pay({ h5_url: created.pay.h5_url, delivery: 'drop' })).body.trade_state).toBe('SUCCESS');
    expect((await orderOf('lost-1', created.order_no)).status).toBe('pending');
    const cancelled = await t.http.post(`/api/v1/payment/orders/${created.order_no}/cancel`).set(auth('lost-1')).expect(409);
    expect(cancelled.body.code).toBe('ORDER_ALREADY_PAID');
    await expectPaidOnce('lost-1', created.order_no, 'h5');
  });

  it('the daily bill finds a phone payment whose notification was lost, like any other (WeChat APP, Alipay WAP)', async () => {
    const wechat = (await createOrder('bill-1', { payment_method: 'wechat', channel: 'app' }).expect(201)).body;
    expect((await pay({ wechat_app: wechat.pay, delivery: 'drop' })).status).toBe(200);
    const alipay = (await createOrder('bill-2', { payment_method: 'alipay', channel: 'wap' }).expect(201)).body;
    expect((await pay({ alipay_url: alipay.pay.url, delivery: 'drop' })).status).toBe(200);
    const service = t.app.get(ReconciliationService);
    const today = beijingDayOf(new Date());
    for (const [method, order] of [
      ['wechat', wechat],
      ['alipay', alipay],
    ] as const) {
      const [attempt] = await attempts(order.order_no);
      expect((await service.reconcile(method, today, { force: true })).status).toBe('completed');
      const { rows } = await t.db.query('SELECT outcome, action FROM reconciliation_items WHERE reference = $1', [attempt.payment_no]);
      expect(rows).toEqual([{ outcome: 'missing_locally', action: 'settled' }]);
      await expectPaidOnce(order.order_no === wechat.order_no ? 'bill-1' : 'bill-2', order.order_no, order.channel);
    }
  });

  it("the old …/qr-code route still refreshes, on the order's own channel", async () => {
    const created = (await createOrder('alias-1', { payment_method: 'wechat', channel: 'app' }).expect(201)).body;
    const again = (await t.http.post(`/api/v1/payment/orders/${created.order_no}/qr-code`).set(auth('alias-1')).expect(200)).body;
    expect(again.pay).toMatchObject({ channel: 'app', package: 'Sign=WXPay' });
    expect(again.pay.prepayid).not.toBe(created.pay.prepayid);
    const stale = created.pay;
    expect(
      (
        await pay({
          wechat_app: {
            appid: stale.appid,
            partnerid: stale.partnerid,
            prepayid: stale.prepayid,
            package: stale.package,
            noncestr: stale.noncestr,
            timestamp: stale.timestamp,
            sign: stale.sign,
          },
        })
      ).status,
    ).toBe(409);
  });

  it('Alipay APP: the sdkExecute order string is verified by Alipay; a changed one is refused; the trade exists only once opened', async () => {
    const created = (await createOrder('aapp-1', { payment_method: 'alipay', channel: 'app' }).expect(201)).body;
    const orderString: string = created.pay.order_string;
    const params = new URLSearchParams(orderString);
    expect(params.get('method')).toBe('alipay.trade.app.pay');
    expect(JSON.parse(params.get('biz_content')!)).toMatchObject({ product_code: 'QUICK_MSECURITY_PAY', total_amount: '19.90' });
    const [attempt] = await attempts(created.order_no);
    // Nobody opened it yet: Alipay has no such trade (no per-channel branch decides anything here).
    expect((await sandboxCall(sb, 'GET', `/sandbox/trades/${attempt.payment_no}`)).status).toBe(404);

    const cheaper = new URLSearchParams(orderString);
    cheaper.set('biz_content', params.get('biz_content')!.replace('"19.90"', '"0.01"'));
    const refused = await pay({ alipay_order_string: cheaper.toString() });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/isv.invalid-signature/);

    const paid = await pay({ alipay_order_string: orderString, delivery: 'concurrent', copies: 3 });
    expect(paid.body).toMatchObject({ provider: 'alipay', trade_state: 'TRADE_SUCCESS', delivered: true });
    await expectPaidOnce('aapp-1', created.order_no, 'app');
  });

  it('Alipay WAP in a browser: the pageExecute URL opens the cashier, paying returns the browser to our return_url, signed', async () => {
    const returnUrl = `${t.url}/payment/return`;
    const created = (await createOrder('wap-1', { payment_method: 'alipay', channel: 'wap', return_url: returnUrl }).expect(201)).body;
    const url = new URL(created.pay.url);
    expect(`${url.origin}${url.pathname}`).toBe(sb.credentials.alipay.gateway);
    expect(url.searchParams.get('method')).toBe('alipay.trade.wap.pay');
    expect(url.searchParams.get('return_url')).toBe(returnUrl);
    expect(JSON.parse(url.searchParams.get('biz_content')!)).toMatchObject({ product_code: 'QUICK_WAP_WAY', quit_url: returnUrl });

    const forged = new URL(created.pay.url);
    forged.searchParams.set(
      'biz_content',
      forged.searchParams.get('biz_content')!.replace('QUICK_WAP_WAY"', 'QUICK_WAP_WAY","quit_url":"https://evil.example"'),
    );
    expect((await fetch(forged, { redirect: 'manual' })).status).toBe(400);

    const cashier = await fetch(created.pay.url, { redirect: 'manual' });
    expect(cashier.status).toBe(303);
    const page = new URL(cashier.headers.get('location')!, sb.url);
    const token = page.searchParams.get('qr')!;
    expect((await fetch(page)).status).toBe(200);
    // The cashier's Pay button: a form post, answered with the way back to the merchant.
    const submitted = await fetch(`${sb.url}/sandbox/pay`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ qr: token }),
    });
    expect(submitted.status).toBe(303);
    const back = submitted.headers.get('location')!;
    expect(back.startsWith(`${returnUrl}?`)).toBe(true);
    expect(new URL(back).searchParams.get('method')).toBe('alipay.trade.wap.pay.return');
    const shown = await (await fetch(back)).text();
    expect(shown).toContain('Paid. Your membership is active.');
    await expectPaidOnce('wap-1', created.order_no, 'wap');
  });

  it('Alipay page: the desktop URL pays through the gateway; the way back goes to the configured return page', async () => {
    const created = (await createOrder('page-1', { payment_method: 'alipay', channel: 'page' }).expect(201)).body;
    expect(new URL(created.pay.url).searchParams.get('method')).toBe('alipay.trade.page.pay');
    const paid = await pay({ alipay_url: created.pay.url });
    expect(paid.body).toMatchObject({
      provider: 'alipay',
      delivered: true,
      return_url: expect.stringMatching(new RegExp(`^${t.url}/payment/return\\?`)),
    });
    await expectPaidOnce('page-1', created.order_no, 'page');
    const [attempt] = await attempts(created.order_no);
    expect((await sandboxCall(sb, 'GET', `/sandbox/trades/${attempt.payment_no}`)).body).toMatchObject({
      method: 'alipay.trade.page.pay',
      state: 'TRADE_SUCCESS',
    });
  });

  it('refuses what no channel can take, changing nothing', async () => {
    const before = Number((await t.db.query('SELECT count(*) FROM orders')).rows[0].count);
    const cases: [Record<string, unknown>, string][] = [
      [{ payment_method: 'wechat', channel: 'wap' }, 'channel wap is not offered by WeChat Pay (its channels: qr, app, jsapi, h5)'],
      [{ payment_method: 'alipay', channel: 'h5' }, 'channel h5 is not offered by Alipay (its channels: qr, app, wap, page)'],
      [{ payment_method: 'wechat', channel: 'sms' }, 'channel must be one of: qr, app, jsapi, h5, wap, page'],
      [
        { payment_method: 'alipay', channel: 'page', return_url: 'https://evil.example/return' },
        `return_url must be on one of the allowed origins: ${t.url}`,
      ],
      [
        { payment_method: 'alipay', channel: 'app', return_url: `${t.url}/payment/return` },
        'return_url applies only to the h5, wap, page channels',
      ],
      [{ payment_method: 'wechat', channel: 'app', openid: 'oAbc' }, 'openid applies only to the jsapi channel'],
    ];
    for (const [body, message] of cases) {
      const res = await createOrder('refused-1', body).expect(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', message: [message] });
    }
    expect(Number((await t.db.query('SELECT count(*) FROM orders')).rows[0].count)).toBe(before);
  });

  it('whatever the channel fields, no 5xx (WeChat Pay refusing an openid is a 400), and only a 201 records an order', async () => {
    const count = async () => Number((await t.db.query('SELECT count(*) FROM orders')).rows[0].count);
    const { openid } = (await sandboxCall(sb, 'POST', '/sandbox/wechat/openid', {})).body;
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('oAbc', openid, 'wx8888888888888888', `${t.url}/back`, 'https://evil.example/', 'javascript:alert(1)'),
    );
    // Mostly absent fields and known channels, so that the run mixes 201s, 400s and refusals.
    const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });
    const body = fc
      .record(
        {
          payment_method: fc.constantFrom('wechat', 'alipay'),
          channel: maybe(
            fc.oneof(
              { weight: 5, arbitrary: fc.constantFrom('qr', 'app', 'jsapi', 'h5', 'wap', 'page') },
              { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()) },
            ),
          ),
          openid: maybe(text),
          app_id: maybe(text),
          return_url: maybe(text),
          h5_type: maybe(fc.oneof(fc.constantFrom('Wap', 'iOS', 'Android'), fc.string({ maxLength: 8 }))),
        },
        { requiredKeys: ['payment_method'] },
      )
      .map((b) => Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)));
    let run = 0;
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const before = await count();
        // One member per run: the per-member rate limit is not what is under test.
        const res = await createOrder(`fuzz-${run++}`, input);
        statuses.add(res.status);
        // An openid WeChat Pay does not know under that app id is refused by WeChat Pay itself: a 400
        // (PAYER_REFUSED) like any other refusal of the client's input, and no order is kept.
        expect(res.status).toBeLessThan(500);
        if (res.status === 400 && input.channel !== 'jsapi') expect(res.body.code).not.toBe('PAYER_REFUSED');
        expect(await count()).toBe(res.status === 201 ? before + 1 : before);
        if (res.status === 201) expect(res.body.pay.channel).toBe(input.channel ?? 'qr');
      }),
      { numRuns: 120 },
    );
    expect(statuses.has(429)).toBe(false);
    expect(statuses.has(201) && statuses.has(400)).toBe(true);
  });

  it('lists the channels in the OpenAPI document', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    expect(doc.components.schemas.CreateOrderDto.properties.channel.enum).toEqual(['qr', 'app', 'jsapi', 'h5', 'wap', 'page']);
    expect(doc.components.schemas.PayView.properties).toHaveProperty('paySign');
    expect(doc.paths['/api/v1/payment/orders/{order_no}/refresh'].post.deprecated).toBeFalsy();
    expect(doc.paths['/api/v1/payment/orders/{order_no}/qr-code'].post.deprecated).toBe(true);
  });
});

describe('a channel the configuration does not turn on', () => {
  const { t, sb } = useApp(
    (port) => ({
      ...providerEnv(sb, port),
      WECHAT_PAY_APP_APP_ID: '',
      WECHAT_PAY_JSAPI_APP_IDS: '',
      WECHAT_PAY_H5_REDIRECT_URL: '',
      ALIPAY_CHANNELS: 'wap',
    }),
    { sandbox: true },
  );

  it.each([
    ['wechat', 'app', 'WECHAT_PAY_APP_APP_ID'],
    ['wechat', 'jsapi', 'WECHAT_PAY_JSAPI_APP_IDS'],
    ['wechat', 'h5', 'WECHAT_PAY_H5_REDIRECT_URL'],
    ['alipay', 'app', 'ALIPAY_CHANNELS=app'],
    ['alipay', 'page', 'ALIPAY_CHANNELS=page'],
  ])('%s %s answers 400 PAYMENT_CHANNEL_DISABLED naming %s, and records nothing', async (method, channel, variable) => {
    const res = await t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token('off-1')}`)
      .send({
        product_type: 'membership',
        product_id: 1,
        payment_method: method,
        channel,
        ...(channel === 'jsapi' ? { openid: 'oAbc' } : {}),
      })
      .expect(400);
    expect(res.body.code).toBe('PAYMENT_CHANNEL_DISABLED');
    expect(res.body.message).toContain(variable);
    expect(Number((await t.db.query('SELECT count(*) FROM orders')).rows[0].count)).toBe(0);
  });

  it('still serves the QR code and the channels it has', async () => {
    const auth = { Authorization: `Bearer ${t.token('off-2')}` };
    for (const [method, channel] of [
      ['wechat', 'qr'],
      ['alipay', 'wap'],
    ]) {
      const res = await t.http
        .post('/api/v1/payment/create-order')
        .set(auth)
        .send({ product_type: 'membership', product_id: 1, payment_method: method, channel })
        .expect(201);
      expect(res.body.pay.channel).toBe(channel);
    }
  });
});
