// Control endpoints, the pay page, key persistence and clean shutdown of the sandbox.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../sandbox';
import { memberpayEnv } from '../../sandbox/env';
import { alipayClient, http, sandboxPay, sleep, startReceiver, tradeNo, wechatClient } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
});
afterAll(() => sb.close());

async function wechatOrder(description: string, no = tradeNo()): Promise<string> {
  const { data } = await wechatClient(sb).v3.pay.transactions.native.post<any>({
    appid: sb.credentials.wechat.appId,
    mchid: sb.credentials.wechat.mchId,
    description,
    out_trade_no: no,
    notify_url: 'https://memberpay.example/cb',
    amount: { total: 990 },
  });
  return data.code_url;
}

it('answers health, and 404 JSON for unknown routes', async () => {
  expect((await http('GET', `${sb.url}/sandbox/health`)).json).toEqual({ status: 'ok' });
  expect((await http('GET', `${sb.url}/sandbox/nothing`)).status).toBe(404);
  expect((await http('GET', `${sb.url}/v2/anything`)).status).toBe(404);
});

describe('pay page', () => {
  it('shows the order with every value HTML-escaped, and pays through its form', async () => {
    const qr = await wechatOrder('<script>alert("x")</script> & 会员');
    const page = await http('GET', `${sb.url}/sandbox/pay?qr=${encodeURIComponent(qr)}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 会员');
    expect(page.text).not.toContain('<script>');
    expect(page.text).toContain('¥9.90');
    expect(page.text).toContain('NOTPAY');
    expect(page.text).toContain('<form method="post" action="/sandbox/pay">');
    expect(page.text).toContain('After paying, go back to the merchant');
    expect(page.text).toContain('<a class="back" href="https://memberpay.example/">');
    const posted = await http('POST', `${sb.url}/sandbox/pay`, new URLSearchParams({ qr }).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    expect(posted.status).toBe(303);
    const after = await http('GET', `${sb.url}${posted.headers.location}`);
    expect(after.text).toContain('SUCCESS');
    expect(after.text).not.toContain('<form');
    expect(after.text).toContain('已支付：请回到商户页面查看订单。');
  });

  it('works for Alipay codes, and answers 404 for codes it never issued', async () => {
    const res = await alipayClient(sb).exec(
      'alipay.trade.precreate',
      {
        bizContent: { out_trade_no: tradeNo(), total_amount: '0.50', subject: 'Alipay <b>"page"' },
      },
      { validateSign: true },
    );
    const page = await http('GET', `${sb.url}/sandbox/pay?qr=${encodeURIComponent(res.qrCode)}`);
    expect(page.text).toContain('Alipay &lt;b&gt;&quot;page&quot;');
    expect(page.text).toContain('¥0.50');
    expect(page.text).toContain('NOT_SCANNED');
    expect((await http('GET', `${sb.url}/sandbox/pay?qr=nope`)).status).toBe(404);
  });
});

describe('trades', () => {
  it('shows the sandbox state of a trade, with its notifications', async () => {
    const no = tradeNo();
    await wechatOrder('Trade view', no);
    const view = (await http('GET', `${sb.url}/sandbox/trades/${no}`)).json;
    expect(view).toMatchObject({
      provider: 'wechat',
      out_trade_no: no,
      state: 'NOTPAY',
      paid: false,
      closed: false,
      amount_fen: 990,
      amount_yuan: '9.90',
      notify_url: 'https://memberpay.example/cb',
      notifications: [],
    });
    expect((await http('GET', `${sb.url}/sandbox/trades/${tradeNo()}`)).status).toBe(404);
  });

  it('needs a provider when both have the out_trade_no; pays by out_trade_no too', async () => {
    const no = tradeNo();
    await wechatOrder('Both', no);
    await alipayClient(sb).exec(
      'alipay.trade.precreate',
      { bizContent: { out_trade_no: no, total_amount: '1.00', subject: 'Both' } },
      { validateSign: true },
    );
    expect((await http('GET', `${sb.url}/sandbox/trades/${no}`)).status).toBe(400);
    expect((await http('GET', `${sb.url}/sandbox/trades/${no}?provider=alipay`)).json.provider).toBe('alipay');
    const pay = await sandboxPay(sb, { out_trade_no: no, provider: 'wechat', delivery: 'drop' });
    expect(pay.json).toMatchObject({ provider: 'wechat', trade_state: 'SUCCESS' });
  });

  it('refuses scanning a WeChat code', async () => {
    const qr = await wechatOrder('No scan');
    expect((await http('POST', `${sb.url}/sandbox/scan`, { qr })).status).toBe(400);
  });
});

it('close() stops resends that are still scheduled', async () => {
  const own = await startSandbox({ timeScale: 0.01 });
  const r = await startReceiver(() => ({ status: 500 }));
  try {
    const { data } = await wechatClient(own).v3.pay.transactions.native.post<any>({
      appid: own.credentials.wechat.appId,
      mchid: own.credentials.wechat.mchId,
      description: 'x',
      out_trade_no: tradeNo(),
      notify_url: r.url,
      amount: { total: 1 },
    });
    const pay = await sandboxPay(own, { qr: data.code_url });
    expect(pay.json.retrying).toBe(true);
    await own.close();
    await sleep(400); // the first resends would have come after 150 ms and 300 ms
    expect(r.received).toHaveLength(1);
  } finally {
    await own.close();
    await r.close();
  }
});

describe('keyDir', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'memberpay-sandbox-keys-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('persists keys and ids, and gives the same credentials after a restart', async () => {
    const first = await startSandbox({ keyDir: dir });
    await first.close();
    const second = await startSandbox({ keyDir: dir });
    await second.close();
    const [a, b] = [first.credentials, second.credentials];
    expect(b.wechat.merchantPrivateKeyPem).toBe(a.wechat.merchantPrivateKeyPem);
    expect(b.wechat).toMatchObject({
      apiV3Key: a.wechat.apiV3Key,
      publicKeyId: a.wechat.publicKeyId,
      platformCertSerial: a.wechat.platformCertSerial,
    });
    expect(b.alipay.alipayPublicKeyPem).toBe(a.alipay.alipayPublicKeyPem);
    const w = b.wechat;
    expect(readFileSync(w.merchantPrivateKeyPath!, 'utf8')).toBe(w.merchantPrivateKeyPem);
    expect(new X509Certificate(readFileSync(w.merchantCertPath!)).serialNumber).toBe(w.merchantCertSerial);
    expect(new X509Certificate(readFileSync(w.platformCertPath!)).serialNumber).toBe(w.platformCertSerial);
    expect(readFileSync(w.publicKeyPath!, 'utf8')).toBe(w.publicKeyPem);
    expect(readFileSync(b.alipay.appPrivateKeyPath!, 'utf8')).toBe(b.alipay.appPrivateKeyPem);
    expect(readFileSync(b.alipay.alipayPublicKeyPath!, 'utf8')).toBe(b.alipay.alipayPublicKeyPem);
    expect(statSync(w.merchantPrivateKeyPath!).mode & 0o077).toBe(0);
  });

  it('builds the memberpay environment from paths, never from key contents', async () => {
    const own = await startSandbox({ keyDir: dir });
    await own.close();
    const env = memberpayEnv(own.credentials, '8001', { wechat: true, alipay: false });
    expect(env).toMatchObject({
      WECHAT_PAY_MCH_ID: own.credentials.wechat.mchId,
      WECHAT_PAY_PRIVATE_KEY_PATH: own.credentials.wechat.merchantPrivateKeyPath,
      WECHAT_PAY_PUBLIC_KEY_ID: own.credentials.wechat.publicKeyId,
      WECHAT_PAY_BASE_URL: own.url,
      WECHAT_PAY_NOTIFY_URL: 'http://127.0.0.1:8001/api/v1/payment/wechat/callback',
    });
    expect(env.ALIPAY_APP_ID).toBeUndefined();
    expect(Object.values(env).join('\n')).not.toContain('PRIVATE KEY');
    expect(() => memberpayEnv(sb.credentials, '8001', { wechat: true, alipay: true })).toThrow(/keyDir/);
  });
});
