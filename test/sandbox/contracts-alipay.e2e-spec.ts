// Alipay agreements (docs/contracts.md#alipay): the agreement page through alipay-sdk pageExecute, the
// signing page, deductions by alipay.trade.pay with agreement_params, unsign, and the dut_user_sign /
// dut_user_unsign notifications verified with checkNotifySignV2.
import { startSandbox, type Sandbox } from '../../sandbox';
import { alipayClient, http, sleep, startReceiver, tradeNo, type Receiver } from './support';

let sb: Sandbox;
let notify: Receiver;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
  notify = await startReceiver();
});
afterAll(async () => {
  await sb.close();
  await notify.close();
});

const form = (text: string): Record<string, string> => Object.fromEntries(new URLSearchParams(text));
let seq = 0;
const externalNo = () => `EA${Date.now()}${(seq += 1)}`;

async function notification(field: string, value: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hit = notify.received
      .map((r) => form(r.text))
      .find((f) => f[field] === value && Object.entries(extra).every(([k, v]) => f[k] === v));
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no notification with ${field}=${value}`);
    await sleep(10);
  }
}

function pageUrl(external: string, rule: Record<string, unknown> = {}): string {
  return alipayClient(sb).pageExecute('alipay.user.agreement.page.sign', 'GET', {
    notifyUrl: notify.url,
    bizContent: {
      personal_product_code: 'CYCLE_PAY_AUTH_P',
      product_code: 'GENERAL_WITHHOLDING',
      sign_scene: 'INDUSTRY|DIGITAL_MEDIA',
      external_agreement_no: external,
      access_params: { channel: 'QRCODE' },
      period_rule_params: { period_type: 'MONTH', period: 1, execute_time: '2026-12-06', single_amount: '19.90', ...rule },
    },
  }) as string;
}

async function signed(): Promise<{ agreementNo: string; external: string; note: Record<string, string> }> {
  const external = externalNo();
  const res = await http('POST', `${sb.url}/sandbox/contracts/sign`, { qr: pageUrl(external) });
  expect(res.status).toBe(200);
  const note = await notification('external_agreement_no', external, { notify_type: 'dut_user_sign' });
  return { agreementNo: res.json.agreement_no, external, note };
}

const pay = (agreementNo: string, no = tradeNo('D'), amount = '19.90') =>
  alipayClient(sb).exec(
    'alipay.trade.pay',
    {
      notifyUrl: notify.url,
      bizContent: {
        out_trade_no: no,
        total_amount: amount,
        subject: '会员月卡续费',
        product_code: 'GENERAL_WITHHOLDING',
        agreement_params: { agreement_no: agreementNo },
      },
    },
    { validateSign: true },
  );
const fault = (mode: string) => http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', op: 'deduct', mode, times: 1 });

describe('signing', () => {
  it('the page URL opens the signing page; signing notifies dut_user_sign NORMAL, verified by the SDK', async () => {
    const url = pageUrl(externalNo());
    const opened = await http('GET', url);
    expect(opened.status).toBe(303);
    expect((await http('GET', `${sb.url}${opened.headers.location}`)).text).toContain('确认签约');
    const { agreementNo, note } = await signed();
    expect(note).toMatchObject({
      notify_type: 'dut_user_sign',
      status: 'NORMAL',
      agreement_no: agreementNo,
      personal_product_code: 'CYCLE_PAY_AUTH_P',
    });
    expect(alipayClient(sb).checkNotifySignV2(note)).toBe(true);
    const q = await alipayClient(sb).exec(
      'alipay.user.agreement.query',
      { bizContent: { agreement_no: agreementNo } },
      { validateSign: true },
    );
    expect(q).toMatchObject({ code: '10000', status: 'NORMAL', singleQuota: '19.90' });
  });

  it('refuses an agreement page whose monthly execute_time is after the 28th', async () => {
    const res = await http('POST', `${sb.url}/sandbox/contracts/sign`, { qr: pageUrl(externalNo(), { execute_time: '2026-12-30' }) });
    expect(res.status).toBe(400);
    expect(res.json.error).toContain('28');
  });

  it('a tampered notification does not verify', async () => {
    const external = externalNo();
    await http('POST', `${sb.url}/sandbox/contracts/sign`, { qr: pageUrl(external), tamper: 'signature' });
    const note = await notification('external_agreement_no', external);
    expect(alipayClient(sb).checkNotifySignV2(note)).toBe(false);
  });
});

describe('deductions', () => {
  let agreementNo: string;
  beforeAll(async () => {
    ({ agreementNo } = await signed());
  });

  it('10000 is paid (no trade_status in the answer), trade_status_sync follows, the same number is never paid twice', async () => {
    const no = tradeNo('D');
    const res = await pay(agreementNo, no);
    expect(res).toMatchObject({ code: '10000', outTradeNo: no, totalAmount: '19.90' });
    expect(res.tradeStatus).toBeUndefined();
    const note = await notification('out_trade_no', no);
    expect(note).toMatchObject({ notify_type: 'trade_status_sync', trade_status: 'TRADE_SUCCESS' });
    const q = await alipayClient(sb).exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, { validateSign: true });
    expect(q.tradeStatus).toBe('TRADE_SUCCESS');
    expect((await pay(agreementNo, no)).subCode).toBe('ACQ.TRADE_HAS_SUCCESS');
  });

  it('declined for funds, a second deduction in the cycle refused, over the single amount refused', async () => {
    await fault('declined');
    expect((await pay(agreementNo)).subCode).toBe('ACQ.BUYER_BALANCE_NOT_ENOUGH');
    await fault('cycle-limit');
    expect((await pay(agreementNo)).subCode).toBe('ACQ.CYCLE_PAY_TOTAL_TIMES_EXCEED');
    expect((await pay(agreementNo, tradeNo('D'), '29.90')).subCode).toBe('ACQ.CYCLE_PAY_SINGLE_FEE_EXCEED');
  });

  it('ACQ.SYSTEM_ERROR although paid: the query says TRADE_SUCCESS', async () => {
    await http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', op: 'deduct', mode: 'system-error-after-commit', times: 1 });
    const no = tradeNo('D');
    expect((await pay(agreementNo, no)).subCode).toBe('ACQ.SYSTEM_ERROR');
    const q = await alipayClient(sb).exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, { validateSign: true });
    expect(q.tradeStatus).toBe('TRADE_SUCCESS');
  });

  it('no notification when the callback is switched off; a resend sends it', async () => {
    await fault('no-callback');
    const no = tradeNo('D');
    expect((await pay(agreementNo, no)).code).toBe('10000');
    const resent = await http('POST', `${sb.url}/sandbox/contracts/resend`, { out_trade_no: no });
    expect(resent.json).toMatchObject({ delivered: true });
    await notification('out_trade_no', no);
    expect(notify.received.filter((r) => form(r.text).out_trade_no === no)).toHaveLength(1);
  });
});

describe('unsigning', () => {
  it('the merchant unsigns: dut_user_unsign UNSIGN, and deductions are refused', async () => {
    const { agreementNo } = await signed();
    const res = await alipayClient(sb).exec(
      'alipay.user.agreement.unsign',
      { notifyUrl: notify.url, bizContent: { agreement_no: agreementNo } },
      { validateSign: true },
    );
    expect(res.code).toBe('10000');
    const note = await notification('agreement_no', agreementNo, { notify_type: 'dut_user_unsign' });
    expect(note.status).toBe('UNSIGN');
    expect(alipayClient(sb).checkNotifySignV2(note)).toBe(true);
    expect((await pay(agreementNo)).subCode).toBe('ACQ.AGREEMENT_STATUS_NOT_NORMAL');
  });

  it('the member unsigns inside Alipay: dut_user_unsign to the notify address', async () => {
    const { agreementNo } = await signed();
    const res = await http('POST', `${sb.url}/sandbox/contracts/unsign`, { agreement_no: agreementNo });
    expect(res.json.status).toBe('UNSIGN');
    const note = await notification('agreement_no', agreementNo, { notify_type: 'dut_user_unsign' });
    expect(alipayClient(sb).checkNotifySignV2(note)).toBe(true);
  });
});
