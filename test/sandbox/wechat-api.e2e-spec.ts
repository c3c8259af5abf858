// The WeChat Pay v3 API of the sandbox, driven by the real wechatpay-axios-plugin (docs/wechat-pay.md,
// docs/wechat-pay.md#sdk). Every 2xx answer below has passed the SDK's signature verification.
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { startSandbox, type Sandbox } from '../../sandbox';
import { failure, http, tradeNo, sandboxPay, wechatClient, wechatSignatureValid } from './support';

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

const createNative = (body: Record<string, unknown>) => wechatClient(sb).v3.pay.transactions.native.post<any>(body);
const queryTrade = (no: string) =>
  wechatClient(sb).v3.pay.transactions.outTradeNo.$out_trade_no$.get({ params: { mchid: sb.credentials.wechat.mchId }, out_trade_no: no });
const closeTrade = (no: string) =>
  wechatClient(sb).v3.pay.transactions.outTradeNo.$out_trade_no$.close.post({ mchid: sb.credentials.wechat.mchId }, { out_trade_no: no });

describe('keys and certificates', () => {
  it('gives a merchant certificate whose serial and key match the credentials', () => {
    const w = sb.credentials.wechat;
    const cert = new X509Certificate(w.merchantCertPem);
    expect(w.merchantCertSerial).toMatch(/^[0-9A-F]{40}$/);
    expect(cert.serialNumber).toBe(w.merchantCertSerial);
    const fromKey = createPublicKey(createPrivateKey(w.merchantPrivateKeyPem)).export({ type: 'spki', format: 'pem' });
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(fromKey);
    expect(w.merchantPrivateKeyPem).toContain('BEGIN PRIVATE KEY'); // PKCS#8
  });

  it('gives a public-key id and a platform certificate with a different key', () => {
    const w = sb.credentials.wechat;
    expect(w.publicKeyId).toMatch(/^PUB_KEY_ID_\d+$/);
    const platform = new X509Certificate(w.platformCertPem);
    expect(platform.serialNumber).toBe(w.platformCertSerial);
    expect(w.platformCertSerial).toMatch(/^[0-9A-F]{40}$/);
    expect(platform.publicKey.export({ type: 'spki', format: 'pem' })).not.toBe(w.publicKeyPem);
    expect(w.apiV3Key).toMatch(/^[\x21-\x7e]{32}$/);
  });
});

describe('Native order', () => {
  it('answers a code_url, signed with the WeChat Pay public key by default', async () => {
    const res = await createNative(order(tradeNo()));
    expect(res.status).toBe(200);
    expect(res.data.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=[0-9A-Za-z]+$/);
    expect(res.headers['wechatpay-serial']).toBe(sb.credentials.wechat.publicKeyId);
    expect(res.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(res.headers['request-id']).toBeTruthy();
    expect(wechatSignatureValid(res.headers, JSON.stringify(res.data), sb.credentials.wechat.publicKeyPem)).toBe(true);
  });

  it('signs with the platform certificate when the request names its serial', async () => {
    const res = await wechatClient(sb, 'platform-cert').v3.pay.transactions.native.post<any>(order(tradeNo()));
    expect(res.headers['wechatpay-serial']).toBe(sb.credentials.wechat.platformCertSerial);
    // A client that only knows the public key cannot verify that answer.
    const onlyPublicKey = wechatClient(sb, 'public-key', { headers: { 'Wechatpay-Serial': sb.credentials.wechat.platformCertSerial } });
    const err = await failure(onlyPublicKey.v3.pay.transactions.native.post<any>(order(tradeNo())));
    expect(err.code).toBe('EV3_RES_HEADER_PLATFORM_SERIAL');
  });

  it('accepts identical resubmissions and refuses changed ones', async () => {
    const no = tradeNo();
    const first = await createNative(order(no));
    const again = await createNative(order(no));
    expect(again.data.code_url).toBe(first.data.code_url);
    const changed = await failure(createNative(order(no, { amount: { total: 2990 } })));
    expect(changed.response.status).toBe(400);
    expect(changed.response.data).toEqual({ code: 'INVALID_REQUEST', message: '201 商户订单号重复' });
  });

  it('answers ORDERPAID for a paid order and ORDER_CLOSED for a closed one', async () => {
    const paid = tradeNo();
    const { data } = await createNative(order(paid));
    expect((await sandboxPay(sb, { qr: data.code_url, delivery: 'drop' })).status).toBe(200);
    const e1 = await failure(createNative(order(paid)));
    expect([e1.response.status, e1.response.data.code]).toEqual([400, 'ORDERPAID']);
    const closed = tradeNo();
    await createNative(order(closed));
    await closeTrade(closed);
    const e2 = await failure(createNative(order(closed)));
    expect([e2.response.status, e2.response.data.code]).toEqual([400, 'ORDER_CLOSED']);
  });

  it.each([
    ['description missing', { description: undefined }, 'description'],
    ['description over 127 characters', { description: '会'.repeat(128) }, 'description'],
    ['out_trade_no too short', { out_trade_no: 'A1' }, 'out_trade_no'],
    ['out_trade_no with a dot', { out_trade_no: 'ORDER.0001' }, 'out_trade_no'],
    ['amount as a string', { amount: { total: '1990' } }, 'amount/total'],
    ['fractional amount', { amount: { total: 19.9 } }, 'amount/total'],
    ['zero amount', { amount: { total: 0 } }, 'amount/total'],
    ['currency USD', { amount: { total: 1, currency: 'USD' } }, 'amount/currency'],
    ['notify_url over http to a public host', { notify_url: 'http://memberpay.example/cb' }, 'notify_url'],
    ['notify_url with a query', { notify_url: 'https://memberpay.example/cb?x=1' }, 'notify_url'],
    ['notify_url missing', { notify_url: undefined }, 'notify_url'],
    ['time_expire in UTC "Z" form', { time_expire: '2030-01-01T00:00:00.000Z' }, 'time_expire'],
    ['time_expire without offset', { time_expire: '2030-01-01T00:00:00' }, 'time_expire'],
  ])('refuses %s with 400 PARAM_ERROR', async (_name, patch, field) => {
    const err = await failure(createNative(order(tradeNo(), patch)));
    expect(err.response.status).toBe(400);
    expect(err.response.data.code).toBe('PARAM_ERROR');
    expect(err.response.data.detail).toMatchObject({ field: `#/${field}`, location: 'body' });
  });

  it('refuses an unknown mchid and an appid not bound to it', async () => {
    const e1 = await failure(createNative(order(tradeNo(), { mchid: '1900000000' })));
    expect([e1.response.status, e1.response.data.code]).toEqual([400, 'MCH_NOT_EXISTS']);
    const e2 = await failure(createNative(order(tradeNo(), { appid: 'wx0000000000000000' })));
    expect([e2.response.status, e2.response.data.code]).toEqual([400, 'APPID_MCHID_NOT_MATCH']);
  });

  it('accepts http notify URLs on loopback hosts', async () => {
    for (const host of ['127.0.0.1:8001', 'localhost', '[::1]:8001']) {
      const res = await createNative(order(tradeNo(), { notify_url: `http://${host}/api/v1/payment/wechat/callback` }));
      expect(res.status).toBe(200);
    }
  });

  it('raises time_expire to now + 1 min, caps it at 90 days and defaults to 7 days', async () => {
    const view = async (no: string) => (await http('GET', `${sb.url}/sandbox/trades/${no}`)).json;
    const cases: Array<[string | undefined, number]> = [
      ['2020-01-01T00:00:00+08:00', 60_000],
      ['2099-01-01T00:00:00+08:00', 90 * 86_400_000],
      [undefined, 7 * 86_400_000],
    ];
    for (const [timeExpire, expected] of cases) {
      const no = tradeNo();
      const before = Date.now();
      await createNative(order(no, timeExpire ? { time_expire: timeExpire } : {}));
      const delta = Date.parse((await view(no)).expires_at) - before;
      expect(delta).toBeGreaterThanOrEqual(expected - 1000);
      expect(delta).toBeLessThan(expected + 5000);
    }
  });
});

describe('query and close', () => {
  it('queries an unpaid and then a paid trade', async () => {
    const no = tradeNo();
    const { data } = await createNative(order(no, { attach: 'plan=monthly' }));
    const unpaid = (await queryTrade(no)).data;
    expect(unpaid).toMatchObject({ out_trade_no: no, trade_type: 'NATIVE', trade_state: 'NOTPAY', amount: { total: 1990 } });
    expect(unpaid.transaction_id).toBeUndefined();
    expect(unpaid.attach).toBeUndefined();
    await sandboxPay(sb, { qr: data.code_url, delivery: 'drop' });
    const paid = (await queryTrade(no)).data;
    expect(paid).toMatchObject({
      appid: sb.credentials.wechat.appId,
      mchid: sb.credentials.wechat.mchId,
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      attach: 'plan=monthly',
      bank_type: expect.any(String),
      amount: { total: 1990, payer_total: 1990, currency: 'CNY', payer_currency: 'CNY' },
    });
    expect(paid.transaction_id).toMatch(/^\d{28}$/);
    expect(paid.success_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(paid.payer.openid).toEqual(expect.any(String));
    const byId = await wechatClient(sb).v3.pay.transactions.id.$transaction_id$.get({
      params: { mchid: sb.credentials.wechat.mchId },
      transaction_id: paid.transaction_id,
    });
    expect(byId.data.out_trade_no).toBe(no);
  });

  it('answers 404 ORDER_NOT_EXIST for an unknown trade and 400 without mchid', async () => {
    const err = await failure(queryTrade(tradeNo()));
    expect([err.response.status, err.response.data.code]).toEqual([404, 'ORDER_NOT_EXIST']);
    const bare = await failure(wechatClient(sb).v3.pay.transactions.outTradeNo.$out_trade_no$.get({ out_trade_no: 'ANY_0001' }));
    expect([bare.response.status, bare.response.data.code]).toEqual([400, 'PARAM_ERROR']);
  });

  it('closes with a signed 204, idempotently, and the trade reads CLOSED', async () => {
    const no = tradeNo();
    const { data } = await createNative(order(no));
    const res = await closeTrade(no);
    expect(res.status).toBe(204);
    expect(wechatSignatureValid(res.headers, '', sb.credentials.wechat.publicKeyPem)).toBe(true);
    expect((await queryTrade(no)).data.trade_state).toBe('CLOSED');
    expect((await closeTrade(no)).status).toBe(204);
    const pay = await sandboxPay(sb, { qr: data.code_url });
    expect(pay.status).toBe(409);
    expect(pay.json.error).toMatch(/CLOSED/);
  });

  it('refuses to close a paid trade with ORDERPAID, and an unknown one with 404', async () => {
    const no = tradeNo();
    const { data } = await createNative(order(no));
    await sandboxPay(sb, { qr: data.code_url, delivery: 'drop' });
    const err = await failure(closeTrade(no));
    expect([err.response.status, err.response.data.code]).toEqual([400, 'ORDERPAID']);
    const unknown = await failure(closeTrade(tradeNo()));
    expect(unknown.response.status).toBe(404);
  });

  it('reads an unpaid trade past time_expire as CLOSED and refuses to take payment', async () => {
    const no = tradeNo();
    const { data } = await createNative(order(no));
    await http('POST', `${sb.url}/sandbox/expire`, { qr: data.code_url });
    expect((await queryTrade(no)).data.trade_state).toBe('CLOSED');
    const pay = await sandboxPay(sb, { qr: data.code_url });
    expect(pay.status).toBe(409);
    expect(pay.json.error).toMatch(/time_expire/);
  });
});
