// The WeChat Pay contract adapter (src/payments/providers/wechat/wechat-pay.agreements.ts) against the sandbox
// over HTTP: pay-and-sign, every deduction outcome and fault, terminate, the merchant notice, and the v2
// callbacks verified and classified (tampered ones refused).
import { tmpdir } from 'node:os';
import { Hash, Transformer } from 'wechatpay-axios-plugin';
import type { AgreementProvider, ContractRef } from '../../src/payments/agreements';
import { agreementProviders } from '../../src/payments/agreement-providers';
import { buildAppConfig } from '../../src/config/app-config';
import { NotificationRejected } from '../../src/payments/payment-provider';
import { providerEnv, sandboxCall, startTestSandbox, type Sandbox } from '../support/sandbox';
import { startReceiver, type Receiver } from '../sandbox/support';

const V2_OK = '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
let sb: Sandbox;
let payments: Receiver;
let contracts: Receiver;
let wx: AgreementProvider;
let seq = 0;

function adapter(extra: Record<string, string> = {}, timeoutMs = 1500): AgreementProvider | undefined {
  const env = {
    DATA_DIR: tmpdir(),
    ...providerEnv(sb, 8001, { wechat: true }),
    WECHAT_PAY_CONTRACT_NOTIFY_URL: contracts.url,
    WECHAT_PAY_PAPAY_NOTIFY_URL: payments.url,
    ...extra,
  };
  return agreementProviders(buildAppConfig(env), timeoutMs).wechat;
}

beforeAll(async () => {
  sb = await startTestSandbox();
  payments = await startReceiver(() => ({ status: 200, body: V2_OK }));
  contracts = await startReceiver(() => ({ status: 200, body: V2_OK }));
  wx = adapter()!;
});
afterAll(async () => {
  await sb?.close();
  await payments?.close();
  await contracts?.close();
});
afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

const fields = (text: string) => Transformer.toObject(text) as Record<string, string>;
const raw = (text: string) => ({ headers: { 'content-type': 'text/xml' }, rawBody: Buffer.from(text, 'utf8') });
const fault = (op: string, mode: string) => sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op, mode, times: 1 });

async function callback(r: Receiver, field: string, value: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = r.received.find((x) => fields(x.text)[field] === value);
    if (hit) return hit.text;
    if (Date.now() > deadline) throw new Error(`no callback with ${field}=${value}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The DELETE callback of a contract. */
async function deleted(contractId: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = contracts.received.find((x) => fields(x.text).contract_id === contractId && fields(x.text).change_type === 'DELETE');
    if (hit) return hit.text;
    if (Date.now() > deadline) throw new Error(`no DELETE callback for ${contractId}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const no = (prefix: string) => `${prefix}${Date.now()}${(seq += 1)}`;

async function signed(plan = 'basic_monthly', using = wx): Promise<ContractRef & { paymentNo: string }> {
  const contractNo = no('K');
  const paymentNo = no('P');
  const signing = await using.sign({
    contractNo,
    paymentNo,
    planCode: plan,
    amountFen: 1990,
    description: '会员月卡（自动续费）',
    displayAccount: '会员 u1 😀',
    periodDays: 30,
    firstDeductionDate: '2026-12-06',
    clientIp: '127.0.0.1',
  });
  expect(signing).toMatchObject({ kind: 'pay_and_sign', url: expect.stringMatching(/^weixin:\/\//) });
  const res = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url });
  expect(res.status).toBe(200);
  const paid = await using.verifyAndClassify(raw(await callback(payments, 'out_trade_no', paymentNo)), 'payment');
  expect(paid).toMatchObject({ kind: 'payment', event: { paymentNo, outcome: 'paid', amountFen: 1990 } });
  const event = await using.verifyAndClassify(raw(await callback(contracts, 'contract_code', contractNo)), 'contract');
  expect(event).toMatchObject({ kind: 'signed', planCode: plan, contract: { contractNo, contractId: res.body.contract_id } });
  return { contractNo, contractId: res.body.contract_id, paymentNo };
}

const deduction = (contract: ContractRef, paymentNo = no('R')) =>
  wx.deduct({ contract, paymentNo, amountFen: 1990, description: '会员月卡续费', clientIp: '127.0.0.1' });

describe('signing', () => {
  it('pays and signs: the payment and the signing arrive as verified events', async () => {
    const c = await signed();
    expect(await wx.queryContract(c)).toMatchObject({ state: 'active', contract: { contractId: c.contractId } });
    // By our number and the plan (a signing whose callback never came): the provider's id and signing time.
    expect(await wx.queryContract({ contractNo: c.contractNo }, 'basic_monthly')).toMatchObject({
      state: 'active',
      contract: { contractId: c.contractId, contractNo: c.contractNo },
      signedAt: expect.any(Date),
    });
    expect(await wx.queryContract({ contractNo: 'NOSUCHCONTRACT1' }, 'basic_monthly')).toEqual({ state: 'not_found' });
    expect(wx.supportsPlan('basic_monthly')).toBe(true);
    expect(wx.supportsPlan('nonexistent')).toBe(false);
    expect(wx.preDeductionNotice).toBe('provider');
  });

  it('is off without the contract settings', () => {
    expect(adapter({ WECHAT_PAY_PAPAY_PLAN_IDS: '', WECHAT_PAY_CONTRACT_NOTIFY_URL: '' })).toBeUndefined();
    expect(() => adapter({ WECHAT_PAY_API_KEY: '' })).toThrow(/WECHAT_PAY_API_KEY/);
  });
});

describe('deductions', () => {
  let contract: ContractRef;
  beforeAll(async () => {
    contract = await signed();
  });

  it('accepted, then paid by callback and by query; the same number again is unknown until queried', async () => {
    const paymentNo = no('R');
    expect(await deduction(contract, paymentNo)).toMatchObject({ outcome: 'pending' });
    const event = await wx.verifyAndClassify(raw(await callback(payments, 'out_trade_no', paymentNo)), 'payment');
    expect(event).toMatchObject({
      kind: 'deduction',
      paymentNo,
      contractId: contract.contractId,
      result: { outcome: 'paid', amountFen: 1990 },
    });
    expect(await wx.queryDeduction(paymentNo)).toMatchObject({ outcome: 'paid', amountFen: 1990 });
    expect(await deduction(contract, paymentNo)).toEqual({ outcome: 'unknown', reason: 'ORDERPAID' });
  });

  it('declined for funds: failed NOTENOUGH by callback and query, the contract still usable', async () => {
    await fault('deduct', 'declined');
    const paymentNo = no('R');
    expect((await deduction(contract, paymentNo)).outcome).toBe('pending');
    const event = await wx.verifyAndClassify(raw(await callback(payments, 'out_trade_no', paymentNo)), 'payment');
    expect(event).toMatchObject({ kind: 'deduction', result: { outcome: 'failed', reason: 'NOTENOUGH', contractEnded: false } });
    expect(await wx.queryDeduction(paymentNo)).toMatchObject({ outcome: 'failed', reason: 'NOTENOUGH' });
  });

  it('SYSTEMERROR: unknown, and the query finds it paid', async () => {
    await fault('deduct', 'system-error-after-commit');
    const paymentNo = no('R');
    expect(await deduction(contract, paymentNo)).toEqual({ outcome: 'unknown', reason: 'SYSTEMERROR' });
    expect((await wx.queryDeduction(paymentNo)).outcome).toBe('paid');
  });

  it('the callback never sent: the query finds it paid', async () => {
    await fault('deduct', 'no-callback');
    const paymentNo = no('R');
    expect((await deduction(contract, paymentNo)).outcome).toBe('pending');
    expect((await wx.queryDeduction(paymentNo)).outcome).toBe('paid');
  });

  it('a second deduction in the cycle refused: failed RULELIMIT, not charged', async () => {
    await fault('deduct', 'cycle-limit');
    const paymentNo = no('R');
    expect(await deduction(contract, paymentNo)).toMatchObject({ outcome: 'failed', reason: 'RULELIMIT', contractEnded: false });
    expect(await wx.queryDeduction(paymentNo)).toEqual({ outcome: 'not_found' });
  });

  it('no answer in time, or an answer that does not verify: unknown', async () => {
    await fault('deduct', 'hang');
    expect(await deduction(contract)).toEqual({ outcome: 'unknown', reason: 'TIMEOUT' });
    await fault('deduct', 'bad-signature');
    expect(await deduction(contract)).toEqual({ outcome: 'unknown', reason: 'UNAVAILABLE' });
    await fault('deduct-query', 'unsigned');
    expect((await wx.queryDeduction('nothing1')).outcome).toBe('unknown');
  });
});

describe('ending', () => {
  it('terminate: the DELETE callback says the merchant ended it; deductions fail with the contract ended', async () => {
    const c = await signed();
    expect(await wx.terminate(c, '会员取消自动续费')).toBe('terminated');
    expect(await wx.verifyAndClassify(raw(await deleted(c.contractId)), 'contract')).toMatchObject({
      kind: 'ended',
      by: 'merchant',
      contract: { contractId: c.contractId, contractNo: c.contractNo },
    });
    expect(await deduction(c)).toMatchObject({ outcome: 'failed', reason: 'CONTRACT_NOT_EXIST', contractEnded: true });
    expect(await wx.queryContract(c)).toMatchObject({ state: 'ended' });
    expect(await wx.terminate({ contractId: '999', contractNo: 'x' }, 'r')).toBe('not_found');
  });

  it('the member unsigns inside WeChat: ended by the member', async () => {
    const c = await signed();
    await sandboxCall(sb, 'POST', '/sandbox/contracts/unsign', { contract_id: c.contractId });
    expect(await wx.verifyAndClassify(raw(await deleted(c.contractId)), 'contract')).toMatchObject({ kind: 'ended', by: 'member' });
  });
});

describe('callbacks that must change nothing', () => {
  const rejection = async (text: string, route: 'contract' | 'payment' = 'contract') => {
    try {
      await wx.verifyAndClassify(raw(text), route);
    } catch (e) {
      return (e as NotificationRejected).reason;
    }
    throw new Error('expected the callback to be refused');
  };
  const key = () => sb.credentials.wechat.apiV2Key;
  const xml = (f: Record<string, string>) => Transformer.toXml(f);

  it('refuses a tampered signature and a signature by another key', async () => {
    for (const tamper of ['signature', 'wrong-key']) {
      const contractNo = no('K');
      const signing = await wx.sign({
        contractNo,
        paymentNo: no('P'),
        planCode: 'basic_monthly',
        amountFen: 1990,
        description: 'x',
        displayAccount: 'u',
        periodDays: 30,
        firstDeductionDate: '2026-12-06',
        clientIp: '127.0.0.1',
      });
      await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url, tamper });
      expect(await rejection(await callback(contracts, 'contract_code', contractNo))).toBe('BAD_SIGNATURE');
    }
  });

  it('accepts MD5 as the callback declares, refuses another merchant, a foreign template, a repeated field, no signature', async () => {
    const base = {
      return_code: 'SUCCESS',
      result_code: 'SUCCESS',
      mch_id: sb.credentials.wechat.mchId,
      contract_code: 'K1',
      contract_id: '1',
      plan_id: sb.credentials.wechat.papayPlans.wechat.basic_monthly,
      change_type: 'ADD',
      operate_time: '2026-12-06 10:00:00',
      openid: 'o1',
    };
    const signedMd5 = { ...base, sign: Hash.sign('MD5', base, key()) };
    expect(await wx.verifyAndClassify(raw(xml(signedMd5)), 'contract')).toMatchObject({ kind: 'signed', planCode: 'basic_monthly' });
    const other = { ...base, mch_id: '1900000999' };
    expect(await rejection(xml({ ...other, sign: Hash.sign('MD5', other, key()) }))).toBe('WRONG_MCHID');
    const foreign = { ...base, plan_id: '1' };
    expect(await rejection(xml({ ...foreign, sign: Hash.sign('MD5', foreign, key()) }))).toBe('UNEXPECTED_EVENT');
    const twice = xml(signedMd5).replace('</xml>', '<contract_id>2</contract_id></xml>');
    expect(await rejection(twice)).toBe('MALFORMED_BODY');
    expect(await rejection(xml(base))).toBe('MISSING_SIGNATURE');
    expect(await rejection('not xml at all', 'payment')).toMatch(/MALFORMED_BODY|MISSING_SIGNATURE/);
  });

  it('answers in v2 XML', () => {
    expect(wx.acknowledge('accepted')).toMatchObject({ status: 200, body: expect.stringContaining('<return_code><![CDATA[SUCCESS]]>') });
    expect(wx.acknowledge('rejected', 'bad <sign>')).toMatchObject({ status: 400, body: expect.stringContaining('FAIL') });
  });
});

describe('the merchant notice (v3)', () => {
  it('sent once per cycle; the same notice again counts as sent; not needed where WeChat notifies', async () => {
    const plans = Object.entries(sb.credentials.wechat.papayPlans.merchant)
      .map(([p, id]) => `${p}:${id}`)
      .join(',');
    const merchant = adapter({ WECHAT_PAY_PAPAY_NOTICE: 'merchant', WECHAT_PAY_PAPAY_PLAN_IDS: plans })!;
    expect(merchant.preDeductionNotice).toBe('merchant');
    const c = await signed('basic_monthly', merchant);
    expect(await merchant.sendPreDeductionNotice(c, 1990, 2)).toBe('sent');
    expect(await merchant.sendPreDeductionNotice(c, 1990, 2)).toBe('already_sent');
    expect(await wx.sendPreDeductionNotice(c, 1990, 2)).toBe('not_needed');
  });
});
