import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, startSandbox } from '../../sandbox';

export type { Sandbox };

/** The local WeChat Pay + Alipay emulator for one test file (resend schedules compressed 1000×). */
export function startTestSandbox(): Promise<Sandbox> {
  return startSandbox({ port: 0, keyDir: mkdtempSync(join(tmpdir(), 'memberpay-sandbox-')), timeScale: 0.001 });
}

/** The service's provider configuration pointing at the sandbox, as an operator would set it. */
export function providerEnv(sb: Sandbox, appPort: number, which: { wechat?: boolean; alipay?: boolean } = { wechat: true, alipay: true }) {
  const w = sb.credentials.wechat;
  const a = sb.credentials.alipay;
  return {
    ...(which.wechat ? {
      WECHAT_PAY_APP_ID: w.appId,
      WECHAT_PAY_MCH_ID: w.mchId,
      WECHAT_PAY_API_V3_KEY: w.apiV3Key,
      WECHAT_PAY_NOTIFY_URL: `http://127.0.0.1:${appPort}/api/v1/payment/wechat/callback`,
      WECHAT_PAY_PRIVATE_KEY_PATH: w.merchantPrivateKeyPath!,
      WECHAT_PAY_CERT_PATH: w.merchantCertPath!,
      WECHAT_PAY_PUBLIC_KEY_PATH: w.publicKeyPath!,
      WECHAT_PAY_PUBLIC_KEY_ID: w.publicKeyId,
      WECHAT_PAY_PLATFORM_CERT_PATH: w.platformCertPath!,
      WECHAT_PAY_BASE_URL: w.baseUrl,
    } : {}),
    ...(which.alipay ? {
      ALIPAY_APP_ID: a.appId,
      ALIPAY_SELLER_ID: a.sellerId,
      ALIPAY_PRIVATE_KEY: a.appPrivateKeyPath!,
      ALIPAY_PUBLIC_KEY: a.alipayPublicKeyPath!,
      ALIPAY_GATEWAY: a.gateway,
      ALIPAY_NOTIFY_URL: `http://127.0.0.1:${appPort}/api/v1/payment/alipay/callback`,
      ALIPAY_RETURN_URL: `http://127.0.0.1:${appPort}/payment/return`,
    } : {}),
    PAYMENT_SANDBOX: '1',
  };
}

/** Control calls to the sandbox (pay, faults, trade state). */
export async function sandboxCall(sb: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sb.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: parsed };
}
