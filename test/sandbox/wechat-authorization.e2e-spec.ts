// The `Authorization` check of the WeChat Pay emulation (docs/wechat-pay.md#request-signatures), with requests
// signed by hand: the SDK only ever sends correct ones.
import { createSign } from 'node:crypto';
import { startSandbox, type Sandbox } from '../../sandbox';
import { http, tradeNo, wechatSignatureValid } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(() => sb.close());

const order = (outTradeNo: string) => ({
  appid: sb.credentials.wechat.appId,
  mchid: sb.credentials.wechat.mchId,
  description: 'Authorization test',
  out_trade_no: outTradeNo,
  notify_url: 'https://memberpay.example/cb',
  amount: { total: 1990 },
});

describe('Authorization', () => {
  const path = () => `/v3/pay/transactions/out-trade-no/NOPE_0001?mchid=${sb.credentials.wechat.mchId}`;
  function authorization(message: string, fields: Record<string, string> = {}, order?: string[]): string {
    const w = sb.credentials.wechat;
    const [, , timestamp, nonce] = message.split('\n');
    const all: Record<string, string> = {
      mchid: w.mchId,
      serial_no: w.merchantCertSerial,
      timestamp,
      nonce_str: nonce,
      signature: createSign('RSA-SHA256').update(message).sign(w.merchantPrivateKeyPem, 'base64'),
      ...fields,
    };
    return `WECHATPAY2-SHA256-RSA2048 ${(order ?? Object.keys(all)).map((k) => `${k}="${all[k]}"`).join(',')}`;
  }
  const now = () => String(Math.floor(Date.now() / 1000));
  const get = (auth?: string, url = path()) => http('GET', `${sb.url}${url}`, undefined, auth ? { Authorization: auth } : {});

  it('accepts a correct signature with the fields in any order', async () => {
    const msg = `GET\n${path()}\n${now()}\nN0nce123\n\n`;
    const res = await get(authorization(msg, {}, ['signature', 'timestamp', 'nonce_str', 'serial_no', 'mchid']));
    expect(res.status).toBe(404); // authenticated; the order just does not exist
  });

  it.each([
    ['no header', () => undefined],
    ['another scheme', () => authorization(`GET\n${path()}\n${now()}\nN\n\n`).replace('WECHATPAY2-SHA256-RSA2048', 'WECHATPAY2-SHA256')],
    ['a missing field', () => authorization(`GET\n${path()}\n${now()}\nN\n\n`, {}, ['mchid', 'nonce_str', 'timestamp', 'signature'])],
    ['an unknown mchid', () => authorization(`GET\n${path()}\n${now()}\nN\n\n`, { mchid: '1900000000' })],
    ['an unknown serial_no', () => authorization(`GET\n${path()}\n${now()}\nN\n\n`, { serial_no: '1'.repeat(40) })],
    [
      'a timestamp 301 s old',
      () => {
        const old = String(Math.floor(Date.now() / 1000) - 301);
        return authorization(`GET\n${path()}\n${old}\nN\n\n`);
      },
    ],
    ['a signature over the path without its query', () => authorization(`GET\n${path().split('?')[0]}\n${now()}\nN\n\n`)],
    ['a signature made with another method', () => authorization(`POST\n${path()}\n${now()}\nN\n\n`)],
  ])('answers a signed 401 SIGN_ERROR for %s', async (_name, make) => {
    const res = await get(make());
    expect(res.status).toBe(401);
    expect(res.json.code).toBe('SIGN_ERROR');
    expect(wechatSignatureValid(res.headers, res.text, sb.credentials.wechat.publicKeyPem)).toBe(true);
  });

  it('verifies over the raw body bytes, not a re-serialised object', async () => {
    const url = '/v3/pay/transactions/native';
    const body = JSON.stringify(order(tradeNo()), null, 1); // unusual but valid JSON text
    const msg = `POST\n${url}\n${now()}\nN\n${body}\n`;
    const ok = await http('POST', `${sb.url}${url}`, body, { Authorization: authorization(msg), 'Content-Type': 'application/json' });
    expect(ok.status).toBe(200);
    const reserialised = `POST\n${url}\n${now()}\nN\n${JSON.stringify(JSON.parse(body))}\n`;
    const bad = await http('POST', `${sb.url}${url}`, body, {
      Authorization: authorization(reserialised),
      'Content-Type': 'application/json',
    });
    expect([bad.status, bad.json.code]).toEqual([401, 'SIGN_ERROR']);
  });
});
