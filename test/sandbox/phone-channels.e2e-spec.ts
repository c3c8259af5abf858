// The sandbox's phone channels, driven by the real SDKs (docs/channels.md): the WeChat Pay APP, JSAPI
// and H5 endpoints with their field checks, and the Alipay requests a client carries, checked the
// way Alipay checks them. The client-side signatures here are written with node:crypto from the
// protocol notes, not with memberpay's code.
import { createSign } from 'node:crypto';
import { startSandbox, type Sandbox } from '../../sandbox';
import { alipayClient, failure, http, tradeNo, wechatClient } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
});
afterAll(() => sb.close());

const order = (outTradeNo: string, extra: Record<string, unknown> = {}) => ({
  appid: sb.credentials.wechat.appId,
  mchid: sb.credentials.wechat.mchId,
  description: 'Membership 1 month',
  out_trade_no: outTradeNo,
  notify_url: 'https://memberpay.example/api/v1/payment/wechat/callback',
  amount: { total: 1990, currency: 'CNY' },
  ...extra,
});
const post = (path: 'app' | 'jsapi' | 'h5', body: Record<string, unknown>) => wechatClient(sb).v3.pay.transactions[path].post<any>(body);
const control = (path: string, body: unknown) => http('POST', `${sb.url}${path}`, body as object);
const signLines = (...lines: string[]) =>
  createSign('RSA-SHA256')
    .update(lines.map((l) => `${l}\n`).join(''))
    .sign(sb.credentials.wechat.merchantPrivateKeyPem, 'base64');

describe('WeChat Pay APP, JSAPI and H5 orders', () => {
  it('APP: the mobile app id only; a prepay_id that pays once its PayReq signature verifies', async () => {
    const no = tradeNo('APP');
    const native = await failure(post('app', order(no)));
    expect(native.response.status).toBe(400);
    expect(native.response.data.code).toBe('APPID_MCHID_NOT_MATCH');
    const res = await post('app', order(no, { appid: sb.credentials.wechat.appAppId }));
    expect(res.data.prepay_id).toMatch(/^wx\d{14}/);
    const again = await post('app', order(no, { appid: sb.credentials.wechat.appAppId }));
    expect(again.data.prepay_id).toBe(res.data.prepay_id);

    const req = {
      appid: sb.credentials.wechat.appAppId,
      partnerid: sb.credentials.wechat.mchId,
      prepayid: res.data.prepay_id,
      package: 'Sign=WXPay',
      noncestr: 'n'.repeat(32),
      timestamp: '1764400000',
    };
    const unsigned = await control('/sandbox/pay', {
      wechat_app: { ...req, sign: signLines(req.appid, req.noncestr, req.timestamp, req.prepayid) },
    });
    expect(unsigned.status).toBe(400);
    const paid = await control('/sandbox/pay', {
      wechat_app: { ...req, sign: signLines(req.appid, req.timestamp, req.noncestr, req.prepayid) },
      delivery: 'drop',
    });
    expect(paid.json).toMatchObject({ provider: 'wechat', out_trade_no: no, trade_state: 'SUCCESS' });
    const queried = await wechatClient(sb).v3.pay.transactions.outTradeNo.$out_trade_no$.get({
      params: { mchid: sb.credentials.wechat.mchId },
      out_trade_no: no,
    });
    expect(queried.data).toMatchObject({ trade_type: 'APP', appid: sb.credentials.wechat.appAppId, trade_state: 'SUCCESS' });
  });

  it('JSAPI: payer.openid is required and must belong to the appid', async () => {
    const missing = await failure(post('jsapi', order(tradeNo('JS'))));
    expect(missing.response.data).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '#/payer/openid' } });
    const { json } = await control('/sandbox/wechat/openid', { appid: sb.credentials.wechat.miniProgramAppId });
    const elsewhere = await failure(post('jsapi', order(tradeNo('JS'), { payer: { openid: json.openid } })));
    expect(elsewhere.response.data).toMatchObject({ code: 'PARAM_ERROR', message: 'appid和openid不匹配' });
    const no = tradeNo('JS');
    const res = await post('jsapi', order(no, { appid: sb.credentials.wechat.miniProgramAppId, payer: { openid: json.openid } }));
    const pkg = `prepay_id=${res.data.prepay_id}`;
    const req = {
      appId: sb.credentials.wechat.miniProgramAppId,
      timeStamp: '1764400000',
      nonceStr: 'x'.repeat(32),
      package: pkg,
      signType: 'RSA',
    };
    const paid = await control('/sandbox/pay', {
      wechat_jsapi: { ...req, paySign: signLines(req.appId, req.timeStamp, req.nonceStr, req.package) },
      openid: json.openid,
      delivery: 'drop',
    });
    expect(paid.json).toMatchObject({ out_trade_no: no, trade_state: 'SUCCESS' });
    const view = await http('GET', `${sb.url}/sandbox/trades/${no}`);
    expect(view.json.state).toBe('SUCCESS');
  });

  it('H5: scene_info with the payer IP and h5_info.type; the h5_url opens the pay page', async () => {
    const noScene = await failure(post('h5', order(tradeNo('H5'))));
    expect(noScene.response.data.detail.field).toBe('#/scene_info');
    const badIp = await failure(
      post('h5', order(tradeNo('H5'), { scene_info: { payer_client_ip: 'localhost', h5_info: { type: 'Wap' } } })),
    );
    expect(badIp.response.data.detail.field).toBe('#/scene_info/payer_client_ip');
    const badType = await failure(
      post('h5', order(tradeNo('H5'), { scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Desktop' } } })),
    );
    expect(badType.response.data.detail.field).toBe('#/scene_info/h5_info/type');
    const res = await post('h5', order(tradeNo('H5'), { scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'iOS' } } }));
    const opened = await http('GET', res.data.h5_url);
    expect(opened.status).toBe(303);
    expect((await http('GET', `${sb.url}${opened.headers.location}`)).text).toContain('Pay ¥19.90');
  });
});

describe('Alipay APP, WAP and page requests carried by the client', () => {
  const biz = (no: string, productCode: string) => ({
    out_trade_no: no,
    total_amount: '19.90',
    subject: 'Membership',
    product_code: productCode,
  });

  it('APP: an sdkExecute order string opens the trade; another product code is refused', async () => {
    const no = tradeNo('AA');
    const wrong = alipayClient(sb).sdkExecute('alipay.trade.app.pay', { bizContent: biz(no, 'FAST_INSTANT_TRADE_PAY') });
    expect((await control('/sandbox/pay', { alipay_order_string: wrong })).json.error).toMatch(/product_code/);
    const query = () => alipayClient(sb).exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, { validateSign: true });
    expect(await query()).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_EXIST' });
    const good = alipayClient(sb).sdkExecute('alipay.trade.app.pay', {
      bizContent: biz(no, 'QUICK_MSECURITY_PAY'),
      notifyUrl: 'https://memberpay.example/cb',
    });
    expect((await control('/sandbox/pay', { alipay_order_string: good, delivery: 'drop' })).json).toMatchObject({
      out_trade_no: no,
      trade_state: 'TRADE_SUCCESS',
    });
    expect(await query()).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
  });

  it('APP in a browser: /sandbox/open checks the order string, then its pay page pays it', async () => {
    const no = tradeNo('AO');
    const good = alipayClient(sb).sdkExecute('alipay.trade.app.pay', { bizContent: biz(no, 'QUICK_MSECURITY_PAY') });
    const forged = good.replace('19.90', '0.01');
    expect((await control('/sandbox/open', { alipay_order_string: forged })).status).toBe(400);
    const opened = await control('/sandbox/open', { alipay_order_string: good });
    expect(opened.json).toMatchObject({ provider: 'alipay', out_trade_no: no, pay_page: expect.stringContaining('/sandbox/pay?qr=') });
    const page = await http('GET', opened.json.pay_page);
    expect(page.text).toContain('Pay ¥19.90');
    const qr = new URL(opened.json.pay_page).searchParams.get('qr')!;
    const paid = await http('POST', `${sb.url}/sandbox/pay`, new URLSearchParams({ qr }).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(paid.status).toBe(303);
    expect((await http('GET', `${sb.url}/sandbox/trades/${no}`)).json.state).toBe('TRADE_SUCCESS');
  });

  it('page: the pageExecute form posts to the cashier; a signature by another key is refused there', async () => {
    const no = tradeNo('AP');
    const form = alipayClient(sb).pageExecute('alipay.trade.page.pay', 'POST', {
      bizContent: biz(no, 'FAST_INSTANT_TRADE_PAY'),
      returnUrl: 'https://memberpay.example/payment/return',
    });
    const action = /action="([^"]+)"/.exec(form)![1].replace(/&amp;/g, '&');
    const fields = [...form.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map(([, k, v]): [string, string] => [
      k,
      v.replace(/&quot;/g, '"'),
    ]);
    const cashier = await http('POST', action, new URLSearchParams(fields).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(cashier.status).toBe(303);
    const token = new URL(cashier.headers.location!, sb.url).searchParams.get('qr')!;
    const paid = await http('POST', `${sb.url}/sandbox/pay`, new URLSearchParams({ qr: token }).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(paid.status).toBe(303);
    expect(paid.headers.location).toMatch(/^https:\/\/memberpay\.example\/payment\/return\?.*method=alipay\.trade\.page\.pay\.return/);

    const stranger = alipayClient(sb, { privateKey: sb.credentials.wechat.merchantPrivateKeyPem }).pageExecute(
      'alipay.trade.page.pay',
      'GET',
      { bizContent: biz(tradeNo('AP'), 'FAST_INSTANT_TRADE_PAY') },
    );
    const refused = await http('GET', stranger);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('isv.invalid-signature');
  });
});
