// The Alipay agreement adapter (src/payments/providers/alipay/alipay.agreements.ts) against the sandbox over
// HTTP: the agreement page, deductions and their outcomes and faults, unsign, and the dut_user_sign /
// dut_user_unsign notifications verified and classified (tampered ones refused).
import { tmpdir } from 'node:os';
import type { AgreementProvider, ContractRef } from '../../src/payments/agreements';
import { agreementProviders } from '../../src/payments/agreement-providers';
import { buildAppConfig } from '../../src/config/app-config';
import { NotificationRejected } from '../../src/payments/payment-provider';
import { providerEnv, sandboxCall, startTestSandbox, type Sandbox } from '../support/sandbox';
import { startReceiver, type Receiver } from '../sandbox/support';

let sb: Sandbox;
let notify: Receiver;
let ali: AgreementProvider;
let seq = 0;

function adapter(extra: Record<string, string> = {}, timeoutMs = 1500): AgreementProvider | undefined {
  const env = { DATA_DIR: tmpdir(), ...providerEnv(sb, 8001, { alipay: true }), ALIPAY_NOTIFY_URL: notify.url, ...extra };
  return agreementProviders(buildAppConfig(env), timeoutMs).alipay;
}

beforeAll(async () => {
  sb = await startTestSandbox();
  notify = await startReceiver();
  ali = adapter()!;
});
afterAll(async () => {
  await sb?.close();
  await notify?.close();
});
afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

const form = (text: string) => Object.fromEntries(new URLSearchParams(text));
const raw = (text: string) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: Buffer.from(text, 'utf8') });
const fault = (mode: string, op = 'deduct') => sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op, mode, times: 1 });
const no = (prefix: string) => `${prefix}${Date.now()}${(seq += 1)}`;

async function notification(match: Record<string, string>): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = notify.received.find((r) => Object.entries(match).every(([k, v]) => form(r.text)[k] === v));
    if (hit) return hit.text;
    if (Date.now() > deadline) throw new Error(`no notification ${JSON.stringify(match)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function signed(tamper?: string): Promise<ContractRef & { text: string }> {
  const contractNo = no('K');
  const signing = await ali.sign({
    contractNo,
    paymentNo: '',
    planCode: 'basic_monthly',
    amountFen: 1990,
    description: '会员月卡（自动续费）',
    displayAccount: 'u1',
    periodDays: 30,
    firstDeductionDate: '2026-12-06',
    clientIp: '127.0.0.1',
  });
  expect(signing).toMatchObject({ kind: 'sign_only', url: expect.stringContaining('alipay.user.agreement.page.sign') });
  const res = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: signing.url, ...(tamper ? { tamper } : {}) });
  expect(res.status).toBe(200);
  const text = await notification({ external_agreement_no: contractNo, notify_type: 'dut_user_sign' });
  return { contractNo, contractId: res.body.agreement_no, text };
}

const deduction = (contract: ContractRef, paymentNo = no('R'), amountFen = 1990) =>
  ali.deduct({ contract, paymentNo, amountFen, description: '会员月卡续费', clientIp: '127.0.0.1' });

describe('signing', () => {
  it('the page signs; dut_user_sign is claimed on the payment route and classified as signed', async () => {
    const c = await signed();
    expect(ali.claims(raw(c.text))).toBe(true);
    expect(await ali.verifyAndClassify(raw(c.text), 'payment')).toMatchObject({
      kind: 'signed',
      provider: 'alipay',
      contract: { contractId: c.contractId, contractNo: c.contractNo },
    });
    expect(await ali.queryContract(c)).toMatchObject({ state: 'active', contract: { contractId: c.contractId } });
    expect(await ali.queryContract({ contractNo: c.contractNo })).toMatchObject({
      state: 'active',
      contract: { contractId: c.contractId, contractNo: c.contractNo },
      signedAt: expect.any(Date),
    });
    expect(ali.preDeductionNotice).toBe('none');
    expect(await ali.sendPreDeductionNotice(c, 1990, 2)).toBe('not_needed');
  });

  it('is off without ALIPAY_AGREEMENT_SIGN_SCENE and refuses DEFAULT|DEFAULT', () => {
    expect(adapter({ ALIPAY_AGREEMENT_SIGN_SCENE: '' })).toBeUndefined();
    expect(() => adapter({ ALIPAY_AGREEMENT_SIGN_SCENE: 'DEFAULT|DEFAULT' })).toThrow(/ALIPAY_AGREEMENT_SIGN_SCENE/);
  });
});

describe('deductions', () => {
  let contract: ContractRef;
  beforeAll(async () => {
    contract = await signed();
  });

  it('10000 is paid at once; its trade_status_sync is left to the payment path; the same number again is unknown', async () => {
    const paymentNo = no('R');
    expect(await deduction(contract, paymentNo)).toMatchObject({ outcome: 'paid', amountFen: 1990, providerTradeNo: expect.any(String) });
    const sync = await notification({ out_trade_no: paymentNo });
    expect(ali.claims(raw(sync))).toBe(false);
    expect(await ali.queryDeduction(paymentNo)).toMatchObject({ outcome: 'paid', amountFen: 1990 });
    expect(await deduction(contract, paymentNo)).toEqual({ outcome: 'unknown', reason: 'ACQ.TRADE_HAS_SUCCESS' });
  });

  it('declined for funds, a second deduction in the cycle, over the agreed amount: failed, the agreement still usable', async () => {
    await fault('declined');
    expect(await deduction(contract)).toMatchObject({ outcome: 'failed', reason: 'ACQ.BUYER_BALANCE_NOT_ENOUGH', contractEnded: false });
    await fault('cycle-limit');
    expect(await deduction(contract)).toMatchObject({ outcome: 'failed', reason: 'ACQ.CYCLE_PAY_TOTAL_TIMES_EXCEED' });
    expect(await deduction(contract, no('R'), 2990)).toMatchObject({ outcome: 'failed', reason: 'ACQ.CYCLE_PAY_SINGLE_FEE_EXCEED' });
  });

  it('ACQ.SYSTEM_ERROR: unknown, and the query finds it paid; an unknown number is not found', async () => {
    await fault('system-error-after-commit');
    const paymentNo = no('R');
    expect(await deduction(contract, paymentNo)).toEqual({ outcome: 'unknown', reason: 'ACQ.SYSTEM_ERROR' });
    expect((await ali.queryDeduction(paymentNo)).outcome).toBe('paid');
    expect(await ali.queryDeduction(no('R'))).toEqual({ outcome: 'not_found' });
  });

  it('the notification never sent changes nothing for the adapter: the answer said paid', async () => {
    await fault('no-callback');
    expect((await deduction(contract)).outcome).toBe('paid');
  });

  it('no answer in time, or an answer that does not verify: unknown', async () => {
    await fault('hang');
    expect(await deduction(contract)).toEqual({ outcome: 'unknown', reason: 'TIMEOUT' });
    await fault('bad-signature');
    expect(await deduction(contract)).toEqual({ outcome: 'unknown', reason: 'UNAVAILABLE' });
    await fault('error-500', 'query');
    expect((await ali.queryDeduction('nothing1')).outcome).toBe('unknown');
  });
});

describe('ending', () => {
  it('terminate: dut_user_unsign classified as ended; deductions fail with the agreement ended', async () => {
    const c = await signed();
    expect(await ali.terminate(c, '取消自动续费')).toBe('terminated');
    const text = await notification({ agreement_no: c.contractId, notify_type: 'dut_user_unsign' });
    expect(await ali.verifyAndClassify(raw(text), 'payment')).toMatchObject({ kind: 'ended', contract: { contractId: c.contractId } });
    expect(await deduction(c)).toMatchObject({ outcome: 'failed', reason: 'ACQ.AGREEMENT_STATUS_NOT_NORMAL', contractEnded: true });
    expect(await ali.queryContract(c)).toMatchObject({ state: 'ended' });
    expect(await ali.terminate({ contractId: '99', contractNo: 'x' }, 'r')).toBe('not_found');
  });

  it('the member unsigns inside Alipay: ended', async () => {
    const c = await signed();
    await sandboxCall(sb, 'POST', '/sandbox/contracts/unsign', { agreement_no: c.contractId });
    const text = await notification({ agreement_no: c.contractId, notify_type: 'dut_user_unsign' });
    expect(await ali.verifyAndClassify(raw(text), 'payment')).toMatchObject({ kind: 'ended', by: 'member' });
  });
});

describe('notifications that must change nothing', () => {
  const rejection = async (text: string) => {
    try {
      await ali.verifyAndClassify(raw(text), 'payment');
    } catch (e) {
      return (e as NotificationRejected).reason;
    }
    throw new Error('expected the notification to be refused');
  };

  it('refuses a tampered signature, another key, an altered field', async () => {
    expect(await rejection((await signed('signature')).text)).toBe('BAD_SIGNATURE');
    expect(await rejection((await signed('wrong-key')).text)).toBe('BAD_SIGNATURE');
    const good = (await signed()).text;
    expect(await rejection(good.replace(/agreement_no=\d+/, 'agreement_no=1'))).toBe('BAD_SIGNATURE');
  });
});
