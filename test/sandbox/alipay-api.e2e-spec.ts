// The Alipay gateway of the sandbox, driven by the real alipay-sdk with validateSign (docs/alipay.md,
// docs/alipay.md#sdk). Raw requests cover what the SDK never sends.
import { createSign, createVerify, generateKeyPairSync } from 'node:crypto';
import { startSandbox, type Sandbox } from '../../sandbox';
import { beijingDateTimeOf } from '../../src/common/beijing-day';
import { alipayClient, alipayNodeText, http, sandboxPay, tradeNo } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
});
afterAll(() => sb.close());
afterEach(() => http('DELETE', `${sb.url}/sandbox/faults`));

const exec = (method: string, biz: Record<string, unknown>, params: Record<string, unknown> = {}) =>
  alipayClient(sb).exec(method, { ...params, bizContent: biz }, { validateSign: true });
const precreate = (no: string, extra: Record<string, unknown> = {}) =>
  exec('alipay.trade.precreate', { out_trade_no: no, total_amount: '19.90', subject: '会员月卡', timeout_express: '15m', ...extra });
const query = (no: string) => exec('alipay.trade.query', { out_trade_no: no });
const close = (no: string) => exec('alipay.trade.close', { out_trade_no: no });
const scan = (qr: string) => http('POST', `${sb.url}/sandbox/scan`, { qr });

/** A gateway request signed by hand (docs/alipay.md#request-signatures), for cases the SDK cannot produce. */
function rawParams(method: string, biz: object, over: Record<string, string | undefined> = {}): Record<string, string> {
  const params: Record<string, string | undefined> = {
    app_id: sb.credentials.alipay.appId,
    method,
    charset: 'utf-8',
    sign_type: 'RSA2',
    version: '1.0',
    timestamp: beijingDateTimeOf(new Date()).replace('T', ' '),
    biz_content: JSON.stringify(biz),
    ...over,
  };
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const content = Object.keys(clean)
    .filter((k) => k !== 'sign' && clean[k] !== '')
    .sort()
    .map((k) => `${k}=${clean[k]}`)
    .join('&');
  if (!('sign' in over)) clean.sign = createSign('RSA-SHA256').update(content).sign(sb.credentials.alipay.appPrivateKeyPem, 'base64');
  return clean;
}
const post = (params: Record<string, string>) =>
  http('POST', `${sb.credentials.alipay.gateway}`, new URLSearchParams(params).toString(), {
    'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8',
  });

describe('precreate', () => {
  it('returns a qr_code in a node signed over its exact text (escaped slashes included)', async () => {
    const no = tradeNo();
    const res = await precreate(no);
    expect(res).toMatchObject({ code: '10000', msg: 'Success', outTradeNo: no });
    expect(res.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\/\w+$/);
    const raw = await post(rawParams('alipay.trade.precreate', { out_trade_no: tradeNo(), total_amount: '1.00', subject: 's' }));
    const node = alipayNodeText(raw.text, 'alipay_trade_precreate_response');
    expect(node).toContain('https:\\/\\/qr.alipay.com\\/');
    expect(createVerify('RSA-SHA256').update(node).verify(sb.credentials.alipay.alipayPublicKeyPem, raw.json.sign, 'base64')).toBe(true);
  });

  it('creates no trade before the scan: query and close answer ACQ.TRADE_NOT_EXIST', async () => {
    const no = tradeNo();
    await precreate(no);
    expect(await query(no)).toMatchObject({ code: '40004', msg: 'Business Failed', subCode: 'ACQ.TRADE_NOT_EXIST' });
    expect(await close(no)).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_EXIST' });
  });

  it('allows re-precreate before the scan; after it only an identical one', async () => {
    const no = tradeNo();
    const first = await precreate(no);
    const second = await precreate(no, { total_amount: '29.90' });
    expect(second.code).toBe('10000');
    expect((await scan(first.qrCode)).json.trade_status).toBe('WAIT_BUYER_PAY');
    expect((await query(no)).totalAmount).toBe('29.90'); // the latest precreate counts
    expect(await precreate(no, { total_amount: '39.90' })).toMatchObject({ code: '40004', subCode: 'ACQ.CONTEXT_INCONSISTENT' });
    expect(await precreate(no, { total_amount: '29.90' })).toMatchObject({ code: '10000', qrCode: second.qrCode });
  });

  it.each([
    ['out_trade_no over 64 characters', { out_trade_no: 'A'.repeat(65) }],
    ['out_trade_no with a dot', { out_trade_no: 'ORDER.1' }],
    ['total_amount with three decimals', { total_amount: '0.001' }],
    ['total_amount zero', { total_amount: '0.00' }],
    ['total_amount over 100000000', { total_amount: '100000000.01' }],
    ['total_amount with a leading zero', { total_amount: '019.90' }],
    ['subject missing', { subject: undefined }],
    ['subject with &', { subject: 'a&b' }],
    ['timeout_express 1.5h', { timeout_express: '1.5h' }],
    ['timeout_express 16d', { timeout_express: '16d' }],
    ['time_expire in ISO form', { time_expire: '2030-01-01T00:00:00+08:00' }],
  ])('refuses %s with ACQ.INVALID_PARAMETER', async (_name, patch) => {
    const res = await precreate(tradeNo(), patch);
    expect(res).toMatchObject({ code: '40004', subCode: 'ACQ.INVALID_PARAMETER' });
  });

  it('accepts the edges: 0.01, 100000000, a number amount, `-` in out_trade_no, 1c and time_expire', async () => {
    for (const patch of [
      { total_amount: '0.01' },
      { total_amount: '100000000' },
      { total_amount: 19.9 },
      { out_trade_no: `with-dash-${Date.now()}` },
      { timeout_express: '1c' },
      { timeout_express: undefined, time_expire: '2099-01-01 00:00:00' },
    ]) {
      expect((await precreate(tradeNo(), patch)).code).toBe('10000');
    }
  });
});

describe('trade life cycle', () => {
  it('scan -> WAIT_BUYER_PAY -> paid TRADE_SUCCESS; close and re-precreate then refused', async () => {
    const no = tradeNo();
    const { qrCode } = await precreate(no);
    await scan(qrCode);
    expect(await query(no)).toMatchObject({ code: '10000', tradeStatus: 'WAIT_BUYER_PAY', totalAmount: '19.90', outTradeNo: no });
    const pay = await sandboxPay(sb, { qr: qrCode });
    const paid = await query(no);
    expect(paid).toMatchObject({ tradeStatus: 'TRADE_SUCCESS', tradeNo: pay.json.transaction_id, receiptAmount: '19.90' });
    expect(paid.tradeNo).toMatch(/^\d{28}$/);
    expect(paid.buyerUserId).toMatch(/^2088\d{12}$/);
    expect(paid.sendPayDate).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await exec('alipay.trade.query', { trade_no: paid.tradeNo })).toMatchObject({ outTradeNo: no });
    expect(await close(no)).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_STATUS_ERROR' });
    expect(await precreate(no)).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_HAS_SUCCESS' });
  });

  it('closes a scanned trade once; it then reads TRADE_CLOSED and cannot be paid', async () => {
    const no = tradeNo();
    const { qrCode } = await precreate(no);
    await scan(qrCode);
    expect(await close(no)).toMatchObject({ code: '10000', outTradeNo: no, tradeNo: expect.stringMatching(/^\d{28}$/) });
    expect((await query(no)).tradeStatus).toBe('TRADE_CLOSED');
    expect(await close(no)).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_STATUS_ERROR' });
    expect((await sandboxPay(sb, { qr: qrCode })).status).toBe(409);
    expect(await precreate(no)).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_HAS_CLOSE' });
  });

  it('a close before the scan does not stop a later scan and payment', async () => {
    const no = tradeNo();
    const { qrCode } = await precreate(no);
    expect((await close(no)).subCode).toBe('ACQ.TRADE_NOT_EXIST');
    expect((await sandboxPay(sb, { qr: qrCode, delivery: 'drop' })).status).toBe(200);
    expect((await query(no)).tradeStatus).toBe('TRADE_SUCCESS');
  });

  it('expires a scanned trade into TRADE_CLOSED and refuses payment', async () => {
    const no = tradeNo();
    const { qrCode } = await precreate(no);
    await scan(qrCode);
    await http('POST', `${sb.url}/sandbox/expire`, { qr: qrCode });
    expect((await query(no)).tradeStatus).toBe('TRADE_CLOSED');
    const pay = await sandboxPay(sb, { qr: qrCode });
    expect(pay.status).toBe(409);
    expect(pay.json.error).toMatch(/TRADE_CLOSED/);
  });
});

describe('request checks', () => {
  it('rejects a request signed with another key: 40002 isv.invalid-signature', async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const res = await alipayClient(sb, { privateKey }).exec(
      'alipay.trade.query',
      { bizContent: { out_trade_no: 'X1' } },
      { validateSign: true },
    );
    expect(res).toMatchObject({ code: '40002', msg: 'Invalid Arguments', subCode: 'isv.invalid-signature' });
  });

  it('drops empty values before verifying, unlike the SDK when it signs', async () => {
    const res = await exec('alipay.trade.query', { out_trade_no: 'X1' }, { notifyUrl: '' });
    expect(res.subCode).toBe('isv.invalid-signature');
  });

  it('rejects an unknown app_id', async () => {
    const res = await alipayClient(sb, { appId: '2021000000009999' }).exec(
      'alipay.trade.query',
      { bizContent: { out_trade_no: 'X1' } },
      { validateSign: true },
    );
    expect(res).toMatchObject({ code: '40002', subCode: 'isv.invalid-app-id' });
  });

  it.each([
    ['a missing sign', { sign: undefined }, '40001', 'isv.missing-signature'],
    ['a missing app_id', { app_id: undefined }, '40001', 'isv.missing-app-id'],
    ['an ISO timestamp', { timestamp: '2024-05-13T17:49:20+08:00' }, '40002', 'isv.invalid-timestamp'],
    ['a timestamp two days old', { timestamp: '2000-01-01 00:00:00' }, '40002', 'isv.invalid-timestamp'],
    ['sign_type RSA', { sign_type: 'RSA' }, '40002', 'isv.invalid-signature-type'],
  ])('answers %s with its 4000x code, signed, in HTTP 200', async (_name, over, code, subCode) => {
    const res = await post(rawParams('alipay.trade.query', { out_trade_no: 'X1' }, over));
    expect(res.status).toBe(200);
    const node = res.json.alipay_trade_query_response;
    expect(node).toMatchObject({ code, sub_code: subCode });
    const text = alipayNodeText(res.text, 'alipay_trade_query_response');
    expect(createVerify('RSA-SHA256').update(text).verify(sb.credentials.alipay.alipayPublicKeyPem, res.json.sign, 'base64')).toBe(true);
  });

  it('answers an unknown method in error_response, and accepts GET with all parameters in the query', async () => {
    const unknown = await post(rawParams('alipay.trade.pay.nothing', {}));
    expect(unknown.json.error_response).toMatchObject({ code: '40002', sub_code: 'isv.invalid-method' });
    const get = await http(
      'GET',
      `${sb.credentials.alipay.gateway}?${new URLSearchParams(rawParams('alipay.trade.query', { out_trade_no: 'X1' }))}`,
    );
    expect(get.json.alipay_trade_query_response.sub_code).toBe('ACQ.TRADE_NOT_EXIST');
  });
});
