// Notification-level faults of the WeChat Pay emulation (/sandbox/pay `tamper` and `override`):
// each notification must fail exactly the check it targets (docs/wechat-pay.md#notification-signatures, #notification-decryption).
import { startSandbox, type Sandbox } from '../../sandbox';
import { decryptResource, sandboxPay, startReceiver, tradeNo, wechatClient, wechatSignatureValid, type Receiver } from './support';

let sb: Sandbox;
const receivers: Receiver[] = [];
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.01 });
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

async function newOrder(notifyUrl: string): Promise<{ no: string; qr: string }> {
  const no = tradeNo();
  const { data } = await wechatClient(sb).v3.pay.transactions.native.post<any>({
    appid: sb.credentials.wechat.appId,
    mchid: sb.credentials.wechat.mchId,
    description: 'Tamper test',
    out_trade_no: no,
    notify_url: notifyUrl,
    amount: { total: 1990 },
  });
  return { no, qr: data.code_url };
}

const transactionOf = (text: string) => decryptResource(JSON.parse(text).resource, sb.credentials.wechat.apiV3Key);

describe('tamper', () => {
  const w = () => sb.credentials.wechat;
  const first = async (tamper: string) => {
    const r = await receiver(() => ({ status: 401, body: '{"code":"FAIL","message":"bad signature"}' }));
    const pay = await sandboxPay(sb, { qr: (await newOrder(r.url)).qr, tamper });
    expect(pay.json.delivered).toBe(false);
    return { r, n: r.received[0] };
  };

  it('signature: the signature does not verify', async () => {
    const { n } = await first('signature');
    expect(n.headers['wechatpay-serial']).toBe(w().publicKeyId);
    expect(wechatSignatureValid(n.headers, n.raw, w().publicKeyPem)).toBe(false);
  });

  it('probe: a WECHATPAY/SIGNTEST/ signature, then a genuine resend', async () => {
    const { r, n } = await first('probe');
    expect(n.headers['wechatpay-signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
    const [, resend] = await r.waitFor(2);
    expect(wechatSignatureValid(resend.headers, resend.raw, w().publicKeyPem)).toBe(true);
  });

  it('stale-timestamp: correctly signed, 10 minutes old', async () => {
    const { n } = await first('stale-timestamp');
    expect(Date.now() / 1000 - Number(n.headers['wechatpay-timestamp'])).toBeGreaterThan(590);
    expect(wechatSignatureValid(n.headers, n.raw, w().publicKeyPem)).toBe(true);
  });

  it('unknown-serial: a serial we were never given', async () => {
    const { n } = await first('unknown-serial');
    expect([w().publicKeyId, w().platformCertSerial]).not.toContain(n.headers['wechatpay-serial']);
  });

  it('malformed-body: a valid signature over a body that is not JSON', async () => {
    const { n } = await first('malformed-body');
    expect(wechatSignatureValid(n.headers, n.raw, w().publicKeyPem)).toBe(true);
    expect(() => JSON.parse(n.text)).toThrow();
  });

  it('wrong-key: signed by a key nobody configured', async () => {
    const { n } = await first('wrong-key');
    expect(n.headers['wechatpay-serial']).toBe(w().publicKeyId);
    expect(wechatSignatureValid(n.headers, n.raw, w().publicKeyPem)).toBe(false);
    expect(wechatSignatureValid(n.headers, n.raw, w().platformCertPem)).toBe(false);
  });
});

it('override: validly signed notification carrying wrong data; the trade itself is unchanged', async () => {
  const r = await receiver();
  const { no, qr } = await newOrder(r.url);
  await sandboxPay(sb, { qr, override: { amount: { total: 1 }, mchid: '1', attach: null } });
  const [n] = r.received;
  expect(wechatSignatureValid(n.headers, n.raw, sb.credentials.wechat.publicKeyPem)).toBe(true);
  const tx = transactionOf(n.text);
  expect(tx.amount).toMatchObject({ total: 1, payer_total: 1990 });
  expect(tx.mchid).toBe('1');
  expect(tx.out_trade_no).toBe(no);
  const q = await wechatClient(sb).v3.pay.transactions.outTradeNo.$out_trade_no$.get({
    params: { mchid: sb.credentials.wechat.mchId },
    out_trade_no: no,
  });
  expect(q.data.amount.total).toBe(1990);
});
