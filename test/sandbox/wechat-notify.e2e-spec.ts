// WeChat Pay payment notifications from /sandbox/pay (docs/wechat-pay.md#payment-notifications), checked with
// node:crypto from the protocol facts and with the SDK helpers memberpay will use (docs/wechat-pay.md#sdk).
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin';
import { startSandbox, type Sandbox } from '../../sandbox';
import {
  decryptResource,
  http,
  sandboxPay,
  sleep,
  startReceiver,
  tradeNo,
  wechatClient,
  wechatSignatureValid,
  type Receiver,
} from './support';

const SCALE = 0.01; // 15 s -> 150 ms
let sb: Sandbox;
const receivers: Receiver[] = [];
beforeAll(async () => {
  sb = await startSandbox({ timeScale: SCALE, notifyTimeoutMs: 300 });
});
afterAll(async () => {
  await sb.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(respond ?? (() => ({ status: 204 })));
  receivers.push(r);
  return r;
}

async function newOrder(notifyUrl: string, extra: Record<string, unknown> = {}): Promise<{ no: string; qr: string }> {
  const no = tradeNo();
  const { data } = await wechatClient(sb).v3.pay.transactions.native.post<any>({
    appid: sb.credentials.wechat.appId,
    mchid: sb.credentials.wechat.mchId,
    description: '会员 月卡 100%',
    out_trade_no: no,
    notify_url: notifyUrl,
    amount: { total: 1990 },
    ...extra,
  });
  return { no, qr: data.code_url };
}

const envelopeOf = (text: string) => JSON.parse(text);
const transactionOf = (text: string) => decryptResource(envelopeOf(text).resource, sb.credentials.wechat.apiV3Key);

it('pays and notifies: signed over the raw body, AES-256-GCM encrypted transaction', async () => {
  const r = await receiver();
  const { no, qr } = await newOrder(r.url, { attach: 'plan=monthly' });
  const pay = await sandboxPay(sb, { qr });
  expect(pay.status).toBe(200);
  expect(pay.json).toMatchObject({ provider: 'wechat', out_trade_no: no, delivered: true, retrying: false, attempts: [{ status: 204 }] });
  expect(pay.json.transaction_id).toMatch(/^\d{28}$/);
  const [n] = r.received;
  const w = sb.credentials.wechat;
  expect(n.headers['content-type']).toContain('application/json');
  expect(n.headers['wechatpay-serial']).toBe(w.publicKeyId);
  expect(n.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
  expect(Math.abs(Number(n.headers['wechatpay-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
  expect(wechatSignatureValid(n.headers, n.raw, w.publicKeyPem)).toBe(true);
  expect(wechatSignatureValid(n.headers, n.raw, w.platformCertPem)).toBe(false);
  const envelope = envelopeOf(n.text);
  expect(envelope).toMatchObject({
    event_type: 'TRANSACTION.SUCCESS',
    resource_type: 'encrypt-resource',
    resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM' },
  });
  expect(envelope.resource.nonce).toHaveLength(12);
  expect(transactionOf(n.text)).toMatchObject({
    appid: w.appId,
    mchid: w.mchId,
    out_trade_no: no,
    transaction_id: pay.json.transaction_id,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    attach: 'plan=monthly',
    amount: { total: 1990, payer_total: 1990, currency: 'CNY', payer_currency: 'CNY' },
  });
});

it('verifies and decrypts with the SDK helpers memberpay uses', async () => {
  const r = await receiver();
  await sandboxPay(sb, { qr: (await newOrder(r.url)).qr });
  const [n] = r.received;
  const h = n.headers as Record<string, string>;
  const message = Formatter.response(h['wechatpay-timestamp'], h['wechatpay-nonce'], n.text);
  expect(Rsa.verify(message, h['wechatpay-signature'], Rsa.from(sb.credentials.wechat.publicKeyPem, Rsa.KEY_TYPE_PUBLIC))).toBe(true);
  const { ciphertext, nonce, associated_data: aad } = envelopeOf(n.text).resource;
  const plain = Aes.AesGcm.decrypt(ciphertext, sb.credentials.wechat.apiV3Key, nonce, aad);
  expect(JSON.parse(plain).trade_state).toBe('SUCCESS');
});

it('signs with the platform certificate when asked (signWith)', async () => {
  const r = await receiver();
  await sandboxPay(sb, { qr: (await newOrder(r.url)).qr, signWith: 'platform-cert' });
  const [n] = r.received;
  expect(n.headers['wechatpay-serial']).toBe(sb.credentials.wechat.platformCertSerial);
  expect(wechatSignatureValid(n.headers, n.raw, sb.credentials.wechat.platformCertPem)).toBe(true);
  expect(wechatSignatureValid(n.headers, n.raw, sb.credentials.wechat.publicKeyPem)).toBe(false);
});

it('resends on the scaled WeChat Pay schedule until a 2xx, same notification, fresh signatures', async () => {
  const r = await receiver((_n, i) => (i < 3 ? { status: 500, body: '{"code":"FAIL","message":"busy"}' } : { status: 200 }));
  const { no, qr } = await newOrder(r.url);
  const pay = await sandboxPay(sb, { qr });
  expect(pay.json).toMatchObject({
    delivered: false,
    retrying: true,
    attempts: [{ status: 500, body: '{"code":"FAIL","message":"busy"}' }],
  });
  const got = await r.waitFor(4);
  const gaps = got.slice(1).map((n, i) => n.at - got[i].at);
  [15_000, 15_000, 30_000].forEach((interval, i) => {
    expect(gaps[i]).toBeGreaterThanOrEqual(interval * SCALE - 20);
    expect(gaps[i]).toBeLessThan(interval * SCALE + 400);
  });
  expect(new Set(got.map((n) => n.text)).size).toBe(1);
  expect(new Set(got.map((n) => n.headers['wechatpay-nonce'])).size).toBe(4);
  got.forEach((n) => expect(wechatSignatureValid(n.headers, n.raw, sb.credentials.wechat.publicKeyPem)).toBe(true));
  await sleep(15_000 * SCALE * 3);
  expect(r.received).toHaveLength(4);
  const view = (await http('GET', `${sb.url}/sandbox/trades/${no}`)).json;
  expect(view.notifications[0]).toMatchObject({ delivered: true, retrying: false });
  expect(view.notifications[0].attempts).toHaveLength(4);
});

it('counts a 200 as received whatever its body says, and a slow answer as failed', async () => {
  const fail200 = await receiver(() => ({ status: 200, body: '{"code":"FAIL","message":"x"}' }));
  expect((await sandboxPay(sb, { qr: (await newOrder(fail200.url)).qr })).json.delivered).toBe(true);
  const slow = await receiver((_n, i) => ({ status: 204, delayMs: i === 0 ? 1000 : 0 }));
  const pay = await sandboxPay(sb, { qr: (await newOrder(slow.url)).qr });
  expect(pay.json.delivered).toBe(false);
  expect(pay.json.attempts[0].error).toMatch(/no answer within 300 ms/);
  await slow.waitFor(2);
});

it('delivers duplicates sequentially and concurrent copies at once', async () => {
  const dup = await receiver();
  const d = await sandboxPay(sb, { qr: (await newOrder(dup.url)).qr, delivery: 'duplicate' });
  expect(d.json.attempts).toHaveLength(2);
  expect(dup.received).toHaveLength(2);
  expect(dup.received[0].text).toBe(dup.received[1].text);
  // The receiver holds every answer until all five copies have arrived: only concurrent sends pass.
  let release: () => void = () => undefined;
  const allIn = new Promise<void>((resolve) => {
    release = resolve;
  });
  const conc = await receiver(async (_n, i) => {
    if (i === 4) release();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      allIn,
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2000);
      }),
    ]);
    clearTimeout(timer);
    return { status: 204 };
  });
  const c = await sandboxPay(sb, { qr: (await newOrder(conc.url)).qr, delivery: 'concurrent', copies: 5 });
  expect(c.json.attempts).toEqual(Array(5).fill({ status: 204, body: '' }));
  expect(new Set(conc.received.map((n) => n.text)).size).toBe(1);
});

it("'none' returns the prepared notification for the test to post itself; 'drop' sends nothing", async () => {
  const r = await receiver();
  const { no, qr } = await newOrder(r.url);
  const pay = await sandboxPay(sb, { qr, delivery: 'none' });
  expect(pay.json).toMatchObject({ delivered: false, attempts: [], retrying: false });
  const { url, headers, body } = pay.json.notification;
  expect(url).toBe(r.url);
  expect(
    wechatSignatureValid(
      Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      body,
      sb.credentials.wechat.publicKeyPem,
    ),
  ).toBe(true);
  expect(transactionOf(body).out_trade_no).toBe(no);
  const dropped = await newOrder(r.url);
  expect((await sandboxPay(sb, { qr: dropped.qr, delivery: 'drop' })).json.delivered).toBe(false);
  await sleep(100);
  expect(r.received).toHaveLength(0);
  const q = await wechatClient(sb).v3.pay.transactions.outTradeNo.$out_trade_no$.get({
    params: { mchid: sb.credentials.wechat.mchId },
    out_trade_no: dropped.no,
  });
  expect(q.data.trade_state).toBe('SUCCESS');
});

it('waits delayMs before the first send', async () => {
  const r = await receiver();
  const started = Date.now();
  await sandboxPay(sb, { qr: (await newOrder(r.url)).qr, delayMs: 300 });
  expect(r.received[0].at - started).toBeGreaterThanOrEqual(290);
});

it('pay:false sends another notification for an already paid trade; paying twice is refused', async () => {
  const r = await receiver();
  const { qr } = await newOrder(r.url);
  const first = await sandboxPay(sb, { qr });
  expect((await sandboxPay(sb, { qr })).status).toBe(409);
  const again = await sandboxPay(sb, { qr, pay: false });
  expect(again.json.transaction_id).toBe(first.json.transaction_id);
  expect(r.received).toHaveLength(2);
  expect(envelopeOf(r.received[1].text).id).not.toBe(envelopeOf(r.received[0].text).id);
  expect(transactionOf(r.received[1].text).transaction_id).toBe(first.json.transaction_id);
});

it('answers 404 for an unknown QR and 400 for bad options', async () => {
  expect((await sandboxPay(sb, { qr: 'weixin://wxpay/bizpayurl?pr=nope' })).status).toBe(404);
  const { qr } = await newOrder('https://memberpay.example/cb');
  for (const bad of [
    { delivery: 'twice' },
    { tamper: 'everything' },
    { signWith: 'hmac' },
    { copies: 0, delivery: 'concurrent' },
    { tradeStatus: 'TRADE_SUCCESS' },
    { override: [1] },
  ]) {
    const res = await sandboxPay(sb, { qr, ...bad });
    expect(res.status).toBe(400);
    expect(res.json.error).toEqual(expect.any(String));
  }
});
