// Checks the merchant's `Authorization` header exactly as docs/wechat-pay.md#request-signatures describes:
// scheme, five key="value" fields in any order, known mchid and serial_no, a timestamp within
// ±300 s, and a SHA256withRSA signature over `METHOD\nURL\nTS\nNONCE\nBODY\n`, where URL is the
// raw request target and BODY the raw request bytes (never a re-serialised object).
import { unixSeconds } from '../clock';
import type { SandboxKeys } from '../keys';
import { verifyBase64 } from '../rsa';
import { SIGNATURE_TYPE } from './signature';

const FIELDS = ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature'] as const;
const CLOCK_WINDOW_S = 300;

export type AuthCheck = { ok: true } | { ok: false; message: string };

function parseFields(text: string): Map<string, string> | null {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const m = /^\s*([a-z_]+)="([^"]*)"\s*$/.exec(part);
    if (!m || fields.has(m[1])) return null;
    fields.set(m[1], m[2]);
  }
  const complete = fields.size === FIELDS.length && FIELDS.every((f) => fields.has(f));
  return complete ? fields : null;
}

export function verifyAuthorization(
  header: string | undefined,
  method: string,
  rawUrl: string,
  rawBody: Buffer,
  keys: SandboxKeys['wechat'],
  now: Date,
): AuthCheck {
  if (!header) return { ok: false, message: '缺少Http头Authorization' };
  const scheme = `${SIGNATURE_TYPE} `;
  if (!header.startsWith(scheme)) return { ok: false, message: 'Http头Authorization认证类型不正确' };
  const fields = parseFields(header.slice(scheme.length));
  if (!fields) return { ok: false, message: 'Http头Authorization值格式错误' };
  const get = (name: (typeof FIELDS)[number]) => fields.get(name) ?? '';
  if (get('mchid') !== keys.mchId) return { ok: false, message: 'Http头Authorization中的mchid不存在' };
  // Serials are hex: compared without regard to case (the real rule is unconfirmed).
  if (get('serial_no').toUpperCase() !== keys.merchantCertSerial.toUpperCase()) {
    return { ok: false, message: '商户证书序列号有误。请使用签名私钥匹配的证书序列号' };
  }
  const timestamp = get('timestamp');
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(unixSeconds(now) - Number(timestamp)) > CLOCK_WINDOW_S) {
    return { ok: false, message: 'Http头Authorization中的timestamp与发起请求的时间不得超过5分钟' };
  }
  const message = Buffer.concat([
    Buffer.from(`${method.toUpperCase()}\n${rawUrl}\n${timestamp}\n${get('nonce_str')}\n`, 'utf8'),
    rawBody,
    Buffer.from('\n'),
  ]);
  if (!verifyBase64(keys.merchantPublicKey, message, get('signature'))) {
    return { ok: false, message: '错误的签名，验签失败' };
  }
  return { ok: true };
}
