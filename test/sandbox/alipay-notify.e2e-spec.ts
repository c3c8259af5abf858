// Alipay asynchronous notifications from /sandbox/pay (docs/alipay.md#notifications), verified with
// alipay-sdk checkNotifySignV2 (docs/alipay.md#sdk) and with node:crypto from the protocol facts.
import { startSandbox, type Sandbox } from '../../sandbox';
import { alipayClient, alipayNotificationValid, http, sandboxPay, startReceiver, tradeNo, type Receiver } from './support';

const SCALE = 0.001; // 4 min -> 240 ms
let sb: Sandbox;
const receivers: Receiver[] = [];
beforeAll(async () => {
  sb = await startSandbox({ timeScale: SCALE });
});
afterAll(async () => {
  await sb.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

const SUBJECT = '会员月卡 100% 满意 + 折扣';

async function newOrder(notifyUrl?: string, extra: Record<string, unknown> = {}): Promise<{ no: string; qr: string }> {
  const no = tradeNo();
  const res = await alipayClient(sb).exec(
    'alipay.trade.precreate',
    {
      ...(notifyUrl ? { notifyUrl } : {}),
      bizContent: { out_trade_no: no, total_amount: '19.90', subject: SUBJECT, timeout_express: '15m', ...extra },
    },
    { validateSign: true },
  );
  expect(res.code).toBe('10000');
  return { no, qr: res.qrCode };
}

const form = (text: string): Record<string, string> => Object.fromEntries(new URLSearchParams(text));
const query = (no: string) => alipayClient(sb).exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, { validateSign: true });

it('pays and notifies with a form that checkNotifySignV2 and node:crypto both verify', async () => {
  const r = await receiver();
  const { no, qr } = await newOrder(r.url);
  const pay = await sandboxPay(sb, { qr });
  expect(pay.json).toMatchObject({
    provider: 'alipay',
    out_trade_no: no,
    delivered: true,
    retrying: false,
    attempts: [{ status: 200, body: 'success' }],
  });
  const [n] = r.received;
  expect(n.headers['content-type']).toContain('application/x-www-form-urlencoded');
  const fields = form(n.text);
  expect(alipayClient(sb).checkNotifySignV2(fields)).toBe(true);
  expect(alipayNotificationValid(fields, sb.credentials.alipay.alipayPublicKeyPem)).toBe(true);
  const a = sb.credentials.alipay;
  expect(fields).toMatchObject({
    notify_type: 'trade_status_sync',
    app_id: a.appId,
    seller_id: a.sellerId,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    out_trade_no: no,
    trade_no: pay.json.transaction_id,
    trade_status: 'TRADE_SUCCESS',
    total_amount: '19.90',
    receipt_amount: '19.90',
    subject: SUBJECT,
  });
  expect(fields.notify_id).toEqual(expect.any(String));
  expect(fields.buyer_id).toMatch(/^2088\d{12}$/);
  expect(fields.gmt_payment).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  expect(fields.notify_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  expect((await query(no)).tradeNo).toBe(fields.trade_no);
});

it('shows why checkNotifySign (v1) must not be used: it throws on `%`', async () => {
  const r = await receiver();
  await sandboxPay(sb, { qr: (await newOrder(r.url)).qr });
  expect(() => alipayClient(sb).checkNotifySign(form(r.received[0].text))).toThrow(URIError);
});

it('resends on the scaled Alipay schedule with the same notify_id until the body is exactly `success`', async () => {
  const answers = ['fail', 'success\n', ' success', 'success'];
  const r = await receiver((_n, i) => ({ status: 200, body: answers[i] }));
  const { no, qr } = await newOrder(r.url);
  const pay = await sandboxPay(sb, { qr });
  expect(pay.json).toMatchObject({ delivered: false, retrying: true, attempts: [{ status: 200, body: 'fail' }] });
  const got = await r.waitFor(4, 15_000);
  const gaps = got.slice(1).map((n, i) => n.at - got[i].at);
  [4, 10, 10].forEach((minutes, i) => {
    expect(gaps[i]).toBeGreaterThanOrEqual(minutes * 60_000 * SCALE - 20);
    expect(gaps[i]).toBeLessThan(minutes * 60_000 * SCALE + 400);
  });
  expect(new Set(got.map((n) => form(n.text).notify_id)).size).toBe(1);
  const view = (await http('GET', `${sb.url}/sandbox/trades/${no}`)).json;
  expect(view.notifications[0]).toMatchObject({ delivered: true, retrying: false });
  expect(view.notifications[0].nextAttemptAt).toBeUndefined();
});

describe('tamper and override', () => {
  it.each(['signature', 'wrong-key'])('%s: the SDK refuses the notification', async (tamper) => {
    const r = await receiver(() => ({ status: 200, body: 'fail' }));
    await sandboxPay(sb, { qr: (await newOrder(r.url)).qr, tamper });
    const fields = form(r.received[0].text);
    expect(alipayClient(sb).checkNotifySignV2(fields)).toBe(false);
    expect(alipayNotificationValid(fields, sb.credentials.alipay.alipayPublicKeyPem)).toBe(false);
  });

  it('override: validly signed, wrong data; the trade keeps its real amount', async () => {
    const r = await receiver();
    const { no, qr } = await newOrder(r.url);
    await sandboxPay(sb, { qr, override: { total_amount: '29.9', app_id: '2021000000009999', seller_id: '2088000000009999' } });
    const fields = form(r.received[0].text);
    expect(alipayClient(sb).checkNotifySignV2(fields)).toBe(true);
    expect(fields).toMatchObject({ total_amount: '29.9', app_id: '2021000000009999', seller_id: '2088000000009999' });
    expect((await query(no)).totalAmount).toBe('19.90');
  });
});

describe('tradeStatus', () => {
  it('WAIT_BUYER_PAY only scans; a later payment still works', async () => {
    const r = await receiver();
    const { no, qr } = await newOrder(r.url);
    await sandboxPay(sb, { qr, tradeStatus: 'WAIT_BUYER_PAY' });
    expect(form(r.received[0].text).trade_status).toBe('WAIT_BUYER_PAY');
    expect((await query(no)).tradeStatus).toBe('WAIT_BUYER_PAY');
    await sandboxPay(sb, { qr });
    expect(form(r.received[1].text).trade_status).toBe('TRADE_SUCCESS');
  });

  it.each([['TRADE_FINISHED'], ['TRADE_CLOSED']])('%s moves the trade there and notifies it', async (status) => {
    const r = await receiver();
    const { no, qr } = await newOrder(r.url);
    await sandboxPay(sb, { qr, tradeStatus: status });
    const fields = form(r.received[0].text);
    expect(fields.trade_status).toBe(status);
    expect(alipayClient(sb).checkNotifySignV2(fields)).toBe(true);
    expect((await query(no)).tradeStatus).toBe(status);
  });
});

it('duplicate and none: same notify_id twice; a prepared notification a test can post itself', async () => {
  const r = await receiver();
  await sandboxPay(sb, { qr: (await newOrder(r.url)).qr, delivery: 'duplicate' });
  expect(r.received).toHaveLength(2);
  expect(form(r.received[0].text).notify_id).toBe(form(r.received[1].text).notify_id);
  const pay = await sandboxPay(sb, { qr: (await newOrder(r.url)).qr, delivery: 'none' });
  expect(pay.json.notification.url).toBe(r.url);
  expect(alipayClient(sb).checkNotifySignV2(form(pay.json.notification.body))).toBe(true);
  expect(r.received).toHaveLength(2);
});

it('pay:false re-notifies a paid trade; without a notify_url nothing is sent', async () => {
  const r = await receiver();
  const { qr } = await newOrder(r.url);
  expect((await sandboxPay(sb, { qr, pay: false })).status).toBe(409); // not scanned: no trade yet
  await sandboxPay(sb, { qr });
  const again = await sandboxPay(sb, { qr, pay: false });
  expect(again.json.delivered).toBe(true);
  expect(form(r.received[1].text).trade_status).toBe('TRADE_SUCCESS');
  const silent = await newOrder(undefined);
  const pay = await sandboxPay(sb, { qr: silent.qr });
  expect(pay.json).toMatchObject({ delivered: false, attempts: [], retrying: false, note: expect.stringMatching(/notify_url/) });
  expect((await query(silent.no)).tradeStatus).toBe('TRADE_SUCCESS');
});

it('scan: /sandbox/scan creates the trade; refused for an expired or unknown QR', async () => {
  const { no, qr } = await newOrder(undefined, { qr_code_timeout_express: '1m' });
  const scanned = await http('POST', `${sb.url}/sandbox/scan`, { qr });
  expect(scanned.json).toMatchObject({ out_trade_no: no, trade_status: 'WAIT_BUYER_PAY' });
  const expired = await newOrder(undefined);
  await http('POST', `${sb.url}/sandbox/expire`, { qr: expired.qr });
  expect((await http('POST', `${sb.url}/sandbox/scan`, { qr: expired.qr })).status).toBe(409);
  expect((await http('POST', `${sb.url}/sandbox/scan`, { qr: 'https://qr.alipay.com/unknown' })).status).toBe(404);
});
