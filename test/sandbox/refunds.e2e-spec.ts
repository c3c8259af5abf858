// Refunds at the sandbox, driven by the real SDKs (docs/refunds.md):
// WeChat Pay out_refund_no idempotency, totals and REFUND.* notifications checked with node:crypto;
// Alipay out_request_no rules, fund_change, cumulative refund_fee and the refund query.
import { startSandbox, type Sandbox } from '../../sandbox';
import {
  alipayClient,
  decryptResource,
  failure,
  http,
  tradeNo,
  sandboxPay,
  startReceiver,
  wechatClient,
  wechatSignatureValid,
} from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
});
afterAll(() => sb.close());
afterEach(() => http('DELETE', `${sb.url}/sandbox/faults`));

describe('WeChat Pay refunds', () => {
  const wx = () => wechatClient(sb).v3;
  async function paidTrade(total = 1990): Promise<string> {
    const no = tradeNo('W');
    await wx().pay.transactions.native.post({
      appid: sb.credentials.wechat.appId,
      mchid: sb.credentials.wechat.mchId,
      description: 'Membership',
      out_trade_no: no,
      notify_url: 'https://memberpay.example/api/v1/payment/wechat/callback',
      amount: { total, currency: 'CNY' },
    });
    expect((await sandboxPay(sb, { out_trade_no: no, delivery: 'drop' })).status).toBe(200);
    return no;
  }
  const refund = (outTradeNo: string, outRefundNo: string, amount: number, notifyUrl?: string) =>
    wx().refund.domestic.refunds.post<any>({
      out_trade_no: outTradeNo,
      out_refund_no: outRefundNo,
      reason: 'test',
      ...(notifyUrl ? { notify_url: notifyUrl } : {}),
      amount: { refund: amount, total: 1990, currency: 'CNY' },
    });

  it('accepts as PROCESSING, ends SUCCESS with a REFUND.SUCCESS notification encrypted and signed like a payment one', async () => {
    const receiver = await startReceiver(() => ({ status: 204 }));
    try {
      const no = await paidTrade();
      const res = await refund(no, `R${no}`, 990, receiver.url);
      expect(res.data).toMatchObject({
        out_refund_no: `R${no}`,
        out_trade_no: no,
        status: 'PROCESSING',
        amount: { refund: 990, total: 1990 },
      });
      const [n] = await receiver.waitFor(1);
      expect(wechatSignatureValid(n.headers, n.raw, sb.credentials.wechat.publicKeyPem)).toBe(true);
      const envelope = JSON.parse(n.text);
      expect(envelope).toMatchObject({
        event_type: 'REFUND.SUCCESS',
        resource: { original_type: 'refund', algorithm: 'AEAD_AES_256_GCM' },
      });
      const resource = decryptResource(envelope.resource, sb.credentials.wechat.apiV3Key);
      expect(resource).toMatchObject({
        mchid: sb.credentials.wechat.mchId,
        out_trade_no: no,
        out_refund_no: `R${no}`,
        refund_status: 'SUCCESS',
        amount: { refund: 990, total: 1990 },
      });
      const queried = await wx().refund.domestic.refunds.$out_refund_no$.get<any>({ out_refund_no: `R${no}` });
      expect(queried.data).toMatchObject({ status: 'SUCCESS', refund_id: res.data.refund_id });
      const trade = await wx().pay.transactions.outTradeNo.$out_trade_no$.get<any>({
        params: { mchid: sb.credentials.wechat.mchId },
        out_trade_no: no,
      });
      expect(trade.data.trade_state).toBe('REFUND');
    } finally {
      await receiver.close();
    }
  });

  it('refunds an out_refund_no once, keeps the sum within the total, and refuses a different request under the same number', async () => {
    const no = await paidTrade();
    const first = await refund(no, `A${no}`, 1500);
    const again = await refund(no, `A${no}`, 1500);
    expect(again.data.refund_id).toBe(first.data.refund_id);
    const changed = await failure(refund(no, `A${no}`, 100));
    expect([changed.response?.status, changed.response?.data?.code]).toEqual([400, 'INVALID_REQUEST']);
    const over = await failure(refund(no, `B${no}`, 491));
    expect([over.response?.status, over.response?.data?.code]).toEqual([400, 'INVALID_REQUEST']);
    expect((await refund(no, `C${no}`, 490)).data.status).toBe('PROCESSING');
    const unknown = await failure(wx().refund.domestic.refunds.$out_refund_no$.get({ out_refund_no: 'NOPE123' }));
    expect([unknown.response?.status, unknown.response?.data?.code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
  });

  it('ends as the refund faults say: ABNORMAL, CLOSED, or PROCESSING until settled', async () => {
    const no = await paidTrade();
    for (const [mode, status] of [
      ['refund-abnormal', 'ABNORMAL'],
      ['refund-closed', 'CLOSED'],
    ] as const) {
      await http('POST', `${sb.url}/sandbox/faults`, { provider: 'wechat', op: 'refund', mode, times: 1 });
      await refund(no, `${mode.slice(7, 9)}${no}`, 100);
      await new Promise((r) => setImmediate(r));
      const q = await wx().refund.domestic.refunds.$out_refund_no$.get<any>({ out_refund_no: `${mode.slice(7, 9)}${no}` });
      expect(q.data.status).toBe(status);
    }
    await http('POST', `${sb.url}/sandbox/faults`, { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    await refund(no, `L${no}`, 100, 'https://memberpay.example/api/v1/payment/wechat/refund-callback');
    await new Promise((r) => setImmediate(r));
    expect((await wx().refund.domestic.refunds.$out_refund_no$.get<any>({ out_refund_no: `L${no}` })).data.status).toBe('PROCESSING');
    const settled = await http('POST', `${sb.url}/sandbox/refunds/settle`, { out_refund_no: `L${no}`, delivery: 'none' });
    expect(settled.json).toMatchObject({ status: 'SUCCESS', notification: { body: expect.any(String) } });
    const final = await http('POST', `${sb.url}/sandbox/refunds/settle`, { out_refund_no: `L${no}`, status: 'CLOSED' });
    expect(final.status).toBe(409);
  });
});

describe('Alipay refunds', () => {
  const exec = (method: string, biz: Record<string, unknown>) =>
    alipayClient(sb).exec(method, { bizContent: biz }, { validateSign: true }) as Promise<any>;
  async function paidTrade(): Promise<string> {
    const no = tradeNo('A');
    await exec('alipay.trade.precreate', { out_trade_no: no, total_amount: '19.90', subject: '会员月卡', timeout_express: '15m' });
    expect((await sandboxPay(sb, { out_trade_no: no, delivery: 'drop' })).status).toBe(200);
    return no;
  }
  const refund = (no: string, amount: string, requestNo?: string) =>
    exec('alipay.trade.refund', { out_trade_no: no, refund_amount: amount, ...(requestNo ? { out_request_no: requestNo } : {}) });

  it('refunds synchronously, once per out_request_no, with the cumulative refund_fee; in full the trade closes', async () => {
    const no = await paidTrade();
    expect(await refund(no, '19.80')).toMatchObject({ code: '40004', subCode: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL' });
    expect(await refund(no, '10.00', 'r1')).toMatchObject({ code: '10000', fundChange: 'Y', refundFee: '10.00' });
    expect(await refund(no, '10.00', 'r1')).toMatchObject({ code: '10000', fundChange: 'N', refundFee: '10.00' });
    expect(await refund(no, '1.00', 'r1')).toMatchObject({ code: '40004', subCode: 'ACQ.DISCORDANT_REPEAT_REQUEST' });
    expect(await refund(no, '9.91', 'r2')).toMatchObject({ code: '40004', subCode: 'ACQ.REASON_TRADE_REFUND_FEE_ERR' });
    expect(await exec('alipay.trade.fastpay.refund.query', { out_trade_no: no, out_request_no: 'r1' })).toMatchObject({
      code: '10000',
      refundAmount: '10.00',
      refundStatus: 'REFUND_SUCCESS',
    });
    const none = await exec('alipay.trade.fastpay.refund.query', { out_trade_no: no, out_request_no: 'r2' });
    expect(none.code).toBe('10000');
    expect(none.refundAmount).toBeUndefined();
    expect(await refund(no, '9.90', 'r2')).toMatchObject({ code: '10000', refundFee: '19.90' });
    expect(await exec('alipay.trade.query', { out_trade_no: no })).toMatchObject({ tradeStatus: 'TRADE_CLOSED' });
  });

  it('answers the refund faults: balance short, window over, and a refund that succeeds only later', async () => {
    const no = await paidTrade();
    await http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', op: 'refund', mode: 'balance-not-enough', times: 1 });
    expect(await refund(no, '1.00', 'b1')).toMatchObject({ code: '40004', subCode: 'ACQ.SELLER_BALANCE_NOT_ENOUGH' });
    await http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', op: 'refund', mode: 'refund-window-over', times: 1 });
    expect(await refund(no, '1.00', 'b2')).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_HAS_FINISHED' });
    await http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', op: 'refund', mode: 'refund-later', times: 1 });
    expect(await refund(no, '1.00', 'b3')).toMatchObject({ code: '40004', subCode: 'ACQ.SYSTEM_ERROR' });
    expect(await refund(no, '1.00', 'b3')).toMatchObject({ code: '40004', subCode: 'ACQ.SYSTEM_ERROR' }); // still pending
    expect((await exec('alipay.trade.fastpay.refund.query', { out_trade_no: no, out_request_no: 'b3' })).refundAmount).toBeUndefined();
    expect(
      (await http('POST', `${sb.url}/sandbox/refunds/settle`, { provider: 'alipay', out_trade_no: no, out_request_no: 'b3' })).status,
    ).toBe(200);
    expect(await refund(no, '1.00', 'b3')).toMatchObject({ code: '10000', fundChange: 'N', refundFee: '1.00' });
    const faultBad = await http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', op: 'query', mode: 'balance-not-enough' });
    expect(faultBad.status).toBe(400);
  });
});
