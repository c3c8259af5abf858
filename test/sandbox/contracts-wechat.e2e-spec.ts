// WeChat Pay contracts (docs/contracts.md): pay-and-sign, deductions, the v3 notice, terminate, and the v2
// callbacks, through wechatpay-axios-plugin's v2 client (signing and verifying with the API v2 key).
import { Hash, Transformer } from 'wechatpay-axios-plugin';
import { startSandbox, type Sandbox } from '../../sandbox';
import { failure, http, sleep, startReceiver, tradeNo, wechatClient, type Receiver } from './support';

let sb: Sandbox;
let payNotify: Receiver;
let contractNotify: Receiver;
const V2_OK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
let serial = Date.now();

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
  payNotify = await startReceiver(() => ({ status: 200, body: V2_OK }));
  contractNotify = await startReceiver(() => ({ status: 200, body: V2_OK }));
});
afterAll(async () => {
  await sb.close();
  await payNotify.close();
  await contractNotify.close();
});

const w = () => sb.credentials.wechat;
const v2 = (secret = w().apiV2Key): any => wechatClient(sb, 'public-key', { secret }).v2;
const parse = (text: string): Record<string, string> => (Transformer.toObject as (xml: string) => Record<string, string>)(text);
/** docs/contracts.md#the-v2-signature, checked with the SDK's Hash.sign in the message's own sign_type. */
const signedOk = (f: Record<string, string>) =>
  f.sign === Hash.sign(f.sign_type === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'MD5', f, w().apiV2Key);

/** Waits for the callback whose `field` is `value` (polling the receiver, as its waitFor does). */
async function callbackFor(r: Receiver, field: string, value: string): Promise<Record<string, string>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = r.received.map((x) => parse(x.text)).find((f) => f[field] === value);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no callback with ${field}=${value}`);
    await sleep(10);
  }
}

async function payAndSign(planId = w().papayPlans.wechat.basic_monthly, signType?: 'HMAC-SHA256') {
  const outTradeNo = tradeNo('C');
  const contractCode = `CC${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  serial += 1;
  const { data } = await v2().pay.contractorder.post({
    appid: w().appId,
    mch_id: w().mchId,
    contract_appid: w().appId,
    contract_mchid: w().mchId,
    out_trade_no: outTradeNo,
    body: '会员 月卡 自动续费',
    total_fee: 1990,
    spbill_create_ip: '127.0.0.1',
    notify_url: payNotify.url,
    trade_type: 'NATIVE',
    product_id: 'basic_monthly',
    plan_id: planId,
    contract_code: contractCode,
    request_serial: String(serial),
    contract_display_account: '会员 42',
    contract_notify_url: contractNotify.url,
    ...(signType ? { sign_type: signType } : {}),
  });
  expect(data).toMatchObject({ return_code: 'SUCCESS', result_code: 'SUCCESS', contract_result_code: 'SUCCESS' });
  expect(data.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
  const signed = await http('POST', `${sb.url}/sandbox/contracts/sign`, { qr: data.code_url });
  expect(signed.status).toBe(200);
  const paid = await callbackFor(payNotify, 'out_trade_no', outTradeNo);
  const added = await callbackFor(contractNotify, 'contract_code', contractCode);
  return { outTradeNo, contractCode, contractId: signed.json.contract_id as string, paid, added };
}

async function apply(contractId: string, outTradeNo = tradeNo('D'), fee = 1990) {
  return v2().pay.pappayapply.post({
    appid: w().appId,
    mch_id: w().mchId,
    body: '会员 月卡 续费',
    out_trade_no: outTradeNo,
    total_fee: fee,
    spbill_create_ip: '127.0.0.1',
    notify_url: payNotify.url,
    trade_type: 'PAP',
    contract_id: contractId,
  });
}

const query = (outTradeNo: string) => v2().pay.paporderquery.post({ appid: w().appId, mch_id: w().mchId, out_trade_no: outTradeNo });
const fault = (op: string, mode: string) => http('POST', `${sb.url}/sandbox/faults`, { provider: 'wechat', op, mode, times: 1 });

describe('pay and sign', () => {
  it('pays the first period and signs: a signed payment result and a signed ADD callback, the contract queries as signed', async () => {
    const { contractId, paid, added, contractCode } = await payAndSign();
    expect(signedOk(paid)).toBe(true);
    expect(paid).toMatchObject({ result_code: 'SUCCESS', total_fee: '1990', trade_type: 'NATIVE' });
    expect(signedOk(added)).toBe(true);
    expect(added).toMatchObject({ change_type: 'ADD', contract_id: contractId, plan_id: w().papayPlans.wechat.basic_monthly });
    const { data } = await v2().papay.querycontract.post({ appid: w().appId, mch_id: w().mchId, contract_id: contractId, version: '1.0' });
    expect(data).toMatchObject({ contract_state: '0', contract_code: contractCode, openid: added.openid });
  });

  it('signs with HMAC-SHA256 when the request does, callbacks included', async () => {
    const { paid, added } = await payAndSign(undefined, 'HMAC-SHA256');
    expect(paid.sign).toHaveLength(64);
    expect(added.sign_type).toBe('HMAC-SHA256');
    expect(signedOk(paid) && signedOk(added)).toBe(true);
  });

  it('refuses a request signed with another key (return_code FAIL)', async () => {
    const err = await failure(v2('x'.repeat(32)).pay.paporderquery.post({ appid: w().appId, mch_id: w().mchId, out_trade_no: 'nothing1' }));
    expect(err.response.data).toMatchObject({ return_code: 'FAIL', return_msg: '签名错误' });
  });

  it('orders for an unknown template but refuses its contract half', async () => {
    serial += 1;
    const { data } = await v2().pay.contractorder.post({
      appid: w().appId,
      mch_id: w().mchId,
      contract_appid: w().appId,
      contract_mchid: w().mchId,
      out_trade_no: tradeNo('C'),
      body: 'x',
      total_fee: 1,
      spbill_create_ip: '127.0.0.1',
      notify_url: payNotify.url,
      trade_type: 'NATIVE',
      product_id: 'p',
      plan_id: '99999',
      contract_code: 'CCX1',
      request_serial: String(serial),
      contract_display_account: 'a',
      contract_notify_url: contractNotify.url,
    });
    expect(data).toMatchObject({ result_code: 'SUCCESS', contract_result_code: 'FAIL', contract_err_code: 'PLAN_ID_NOT_EXIST' });
  });

  it('opens the signing page from the code_url', async () => {
    serial += 1;
    const { data } = await v2().pay.contractorder.post({
      appid: w().appId,
      mch_id: w().mchId,
      contract_appid: w().appId,
      contract_mchid: w().mchId,
      out_trade_no: tradeNo('C'),
      body: '会员',
      total_fee: 1990,
      spbill_create_ip: '127.0.0.1',
      notify_url: payNotify.url,
      trade_type: 'NATIVE',
      product_id: 'p',
      plan_id: w().papayPlans.wechat.basic_monthly,
      contract_code: `CCP${serial}`,
      request_serial: String(serial),
      contract_display_account: 'a',
      contract_notify_url: contractNotify.url,
    });
    const page = await http('GET', `${sb.url}/sandbox/pay?qr=${encodeURIComponent(data.code_url)}`);
    expect(page.status).toBe(303);
    const sign = await http('GET', `${sb.url}${page.headers.location}`);
    expect(sign.text).toContain('确认签约');
  });
});

describe('deductions', () => {
  let contractId: string;
  beforeAll(async () => {
    ({ contractId } = await payAndSign());
  });

  it('accepts, charges, calls back trade_state SUCCESS, and never charges the same out_trade_no twice', async () => {
    const no = tradeNo('D');
    const { data } = await apply(contractId, no);
    expect(data).toMatchObject({ result_code: 'SUCCESS', contract_id: contractId });
    const cb = await callbackFor(payNotify, 'out_trade_no', no);
    expect(signedOk(cb)).toBe(true);
    expect(cb).toMatchObject({ trade_type: 'PAP', trade_state: 'SUCCESS', contract_id: contractId, total_fee: '1990' });
    expect((await query(no)).data).toMatchObject({ trade_state: 'SUCCESS', transaction_id: cb.transaction_id });
    const again = await failure(apply(contractId, no));
    expect(again.response.data).toMatchObject({ result_code: 'FAIL', err_code: 'ORDERPAID' });
  });

  it('declined for funds: PAY_FAIL NOTENOUGH by callback and query; the number is not usable again', async () => {
    await fault('deduct', 'declined');
    const no = tradeNo('D');
    await apply(contractId, no);
    const cb = await callbackFor(payNotify, 'out_trade_no', no);
    expect(cb).toMatchObject({ trade_state: 'PAY_FAIL', err_code: 'NOTENOUGH', result_code: 'FAIL' });
    expect((await query(no)).data).toMatchObject({ trade_state: 'PAY_FAIL', err_code: 'NOTENOUGH' });
    expect((await failure(apply(contractId, no))).response.data.err_code).toBe('INVALID_REQUEST');
  });

  it('SYSTEMERROR on apply, yet charged: the query says SUCCESS', async () => {
    await fault('deduct', 'system-error-after-commit');
    const no = tradeNo('D');
    const err = await failure(apply(contractId, no));
    expect(err.response.data).toMatchObject({ result_code: 'FAIL', err_code: 'SYSTEMERROR' });
    expect((await query(no)).data.trade_state).toBe('SUCCESS');
  });

  it('the callback never sent: only the query tells; a resend delivers it', async () => {
    await fault('deduct', 'no-callback');
    const no = tradeNo('D');
    await apply(contractId, no);
    expect((await query(no)).data.trade_state).toBe('SUCCESS');
    const resent = await http('POST', `${sb.url}/sandbox/contracts/resend`, { out_trade_no: no, copies: 3, concurrent: true });
    expect(resent.json).toMatchObject({ delivered: true });
    await callbackFor(payNotify, 'out_trade_no', no);
    expect(payNotify.received.filter((r) => parse(r.text).out_trade_no === no)).toHaveLength(3);
  });

  it('a second deduction in the cycle refused: RULELIMIT, nothing charged', async () => {
    await fault('deduct', 'cycle-limit');
    const no = tradeNo('D');
    expect((await failure(apply(contractId, no))).response.data.err_code).toBe('RULELIMIT');
    expect((await failure(query(no))).response.data.err_code).toBe('ORDERNOTEXIST');
  });

  it('an answer with a spoiled signature fails the SDK check', async () => {
    await fault('deduct-query', 'bad-signature');
    const err = await failure(query('nothing_here'));
    expect(err.code ?? err.response?.data?.err_code).toBeDefined();
  });
});

describe('pre-deduction notice (v3)', () => {
  it('204 once per cycle; the same again RESOURCE_ALREADY_EXISTS, other parameters INVALID_REQUEST', async () => {
    const { contractId } = await payAndSign(w().papayPlans.merchant.basic_monthly);
    const notify = (b: object) => (wechatClient(sb).v3.papay.contracts as any).$contract_id$.notify.post(b, { contract_id: contractId });
    const body = {
      mchid: w().mchId,
      appid: w().appId,
      deduct_duration: { count: 2, unit: 'DAY' },
      estimated_amount: { amount: 1990, currency: 'CNY' },
    };
    const first = await notify(body);
    expect(first.status).toBe(204);
    expect((await failure(notify(body))).response.data.code).toBe('RESOURCE_ALREADY_EXISTS');
    const other = { ...body, estimated_amount: { amount: 2990, currency: 'CNY' } };
    expect((await failure(notify(other))).response.data.code).toBe('INVALID_REQUEST');
  });

  it('refused for a template where WeChat notifies the member', async () => {
    const { contractId } = await payAndSign();
    const body = {
      mchid: w().mchId,
      appid: w().appId,
      deduct_duration: { count: 1, unit: 'DAY' },
      estimated_amount: { amount: 1990, currency: 'CNY' },
    };
    expect(
      (await failure((wechatClient(sb).v3.papay.contracts as any).$contract_id$.notify.post(body, { contract_id: contractId }))).response
        .data.code,
    ).toBe('INVALID_REQUEST');
  });
});

describe('ending a contract', () => {
  it('deletecontract: a DELETE callback with mode 3, and no deduction afterwards', async () => {
    const { contractId } = await payAndSign();
    const { data } = await v2().papay.deletecontract.post({
      appid: w().appId,
      mch_id: w().mchId,
      contract_id: contractId,
      contract_termination_remark: '会员取消自动续费',
      version: '1.0',
    });
    expect(data.contract_id).toBe(contractId);
    const deleted = await callbackFor(contractNotify, 'change_type', 'DELETE');
    const mine = contractNotify.received.map((r) => parse(r.text)).find((f) => f.contract_id === contractId && f.change_type === 'DELETE');
    expect(deleted && mine).toMatchObject({ contract_termination_mode: '3' });
    expect((await failure(apply(contractId))).response.data.err_code).toBe('CONTRACT_NOT_EXIST');
  });

  it('the member unsigns inside WeChat: a DELETE callback with mode 2', async () => {
    const { contractId } = await payAndSign();
    const res = await http('POST', `${sb.url}/sandbox/contracts/unsign`, { contract_id: contractId });
    expect(res.json).toMatchObject({ state: 'terminated', termination_mode: 2 });
    const cb = contractNotify.received.map((r) => parse(r.text)).find((f) => f.contract_id === contractId && f.change_type === 'DELETE');
    expect(cb).toMatchObject({ contract_termination_mode: '2' });
    expect(signedOk(cb!)).toBe(true);
  });

  it('a tampered callback does not verify', async () => {
    serial += 1;
    const code = `CCT${serial}`;
    const { data } = await v2().pay.contractorder.post({
      appid: w().appId,
      mch_id: w().mchId,
      contract_appid: w().appId,
      contract_mchid: w().mchId,
      out_trade_no: tradeNo('C'),
      body: '会员',
      total_fee: 1990,
      spbill_create_ip: '127.0.0.1',
      notify_url: payNotify.url,
      trade_type: 'NATIVE',
      product_id: 'p',
      plan_id: w().papayPlans.wechat.basic_monthly,
      contract_code: code,
      request_serial: String(serial),
      contract_display_account: 'a',
      contract_notify_url: contractNotify.url,
    });
    await http('POST', `${sb.url}/sandbox/contracts/sign`, { qr: data.code_url, tamper: 'signature' });
    expect(signedOk(await callbackFor(contractNotify, 'contract_code', code))).toBe(false);
  });
});
