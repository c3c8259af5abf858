// Helpers for the sandbox's own tests: the real SDKs pointed at a sandbox, a tiny notify_url
// receiver, and protocol checks written with node:crypto from docs/wechat-pay.md and docs/alipay.md (not from sandbox/).
import { createDecipheriv, createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlipaySdk } from 'alipay-sdk';
import { Wechatpay } from 'wechatpay-axios-plugin';
import type { Sandbox } from '../../sandbox';

let counter = 0;
/** A fresh out_trade_no per test: `[0-9A-Za-z_-]`, fits both providers. */
export function tradeNo(prefix = 'T'): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}_${counter}_${Math.random().toString(36).slice(2, 8)}`;
}

export function wechatClient(
  sb: Sandbox,
  mode: 'public-key' | 'platform-cert' = 'public-key',
  extra: Record<string, unknown> = {},
): Wechatpay {
  const w = sb.credentials.wechat;
  const certs = mode === 'public-key' ? { [w.publicKeyId]: w.publicKeyPem } : { [w.platformCertSerial]: w.platformCertPem };
  return new Wechatpay({
    mchid: w.mchId,
    serial: w.merchantCertSerial,
    privateKey: w.merchantPrivateKeyPem,
    certs,
    baseURL: w.baseUrl,
    ...(mode === 'platform-cert' ? { headers: { 'Wechatpay-Serial': w.platformCertSerial } } : {}),
    ...extra,
  });
}

export function alipayClient(sb: Sandbox, extra: Record<string, unknown> = {}): AlipaySdk {
  const a = sb.credentials.alipay;
  return new AlipaySdk({
    appId: a.appId,
    privateKey: a.appPrivateKeyPem,
    alipayPublicKey: a.alipayPublicKeyPem,
    gateway: a.gateway,
    keyType: 'PKCS8',
    signType: 'RSA2',
    ...extra,
  });
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

/** One HTTP exchange without connection pooling (nothing left open after a test). */
export function http(method: string, url: string, body?: string | object, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const all = { ...(typeof body === 'object' ? { 'Content-Type': 'application/json' } : {}), ...headers };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: raw, json });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

export interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
  text: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

type Respond = (
  r: Received,
  index: number,
) => { status: number; body?: string; delayMs?: number } | Promise<{ status: number; body?: string }>;

/** A notify_url: records every POST and answers with `respond` (default 200 / `success`). */
export async function startReceiver(respond: Respond = () => ({ status: 200, body: 'success' })): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const entry = { headers: req.headers, raw, text: raw.toString('utf8'), at: Date.now() };
      received.push(entry);
      const answer = await respond(entry, received.length - 1);
      const delayMs = 'delayMs' in answer ? (answer.delayMs ?? 0) : 0;
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(answer.status).end(answer.body ?? '');
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    received,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${received.length}`);
        await sleep(10);
      }
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** docs/wechat-pay.md#notification-signatures: SHA256withRSA over `TS\nNONCE\nBODY\n` with the raw body bytes. */
export function wechatSignatureValid(
  headers: IncomingHttpHeaders | Record<string, unknown>,
  raw: Buffer | string,
  key: string | KeyObject,
): boolean {
  const h = headers as Record<string, string>;
  const message = Buffer.concat([
    Buffer.from(`${h['wechatpay-timestamp']}\n${h['wechatpay-nonce']}\n`),
    Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'),
    Buffer.from('\n'),
  ]);
  try {
    return createVerify('RSA-SHA256').update(message).verify(createPublicKey(key), h['wechatpay-signature'], 'base64');
  } catch {
    return false;
  }
}

/** docs/wechat-pay.md#notification-decryption: AES-256-GCM, key = API v3 key bytes, IV = nonce, AAD, 16-byte tag at the end. */
export function decryptResource(resource: { ciphertext: string; nonce: string; associated_data: string }, apiV3Key: string): any {
  const sealed = Buffer.from(resource.ciphertext, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'ascii'), Buffer.from(resource.nonce, 'ascii'));
  decipher.setAAD(Buffer.from(resource.associated_data, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  return JSON.parse(plain.toString('utf8'));
}

/** docs/alipay.md#notification-signatures: sorted form fields without sign/sign_type, raw values, Alipay public key. */
export function alipayNotificationValid(fields: Record<string, string>, alipayPublicKeyPem: string): boolean {
  const content = Object.keys(fields)
    .filter((k) => k !== 'sign' && k !== 'sign_type')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
  return createVerify('RSA-SHA256').update(content, 'utf8').verify(alipayPublicKeyPem, fields.sign, 'base64');
}

/** docs/alipay.md#answer-signatures: the signed text is the exact `_response` node cut out of the raw answer. */
export function alipayNodeText(raw: string, key: string): string {
  const start = raw.indexOf(`"${key}":`) + key.length + 3;
  const end = raw.lastIndexOf(',"sign":');
  return raw.slice(start, end);
}

export function sandboxPay(sb: Sandbox, body: Record<string, unknown>): Promise<HttpAnswer> {
  return http('POST', `${sb.url}/sandbox/pay`, body);
}

/** The error a call that must fail threw (the SDKs throw their answers' errors); a call that succeeds fails the test. */
export async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the SDK call to fail');
}
