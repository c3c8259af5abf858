// Signs WeChat Pay answers and notifications: `Wechatpay-*` headers over `TS\nNONCE\nBODY\n`
// (docs/wechat-pay.md#notification-signatures), with either the WeChat Pay public key (`PUB_KEY_ID_…`) or the platform
// certificate key (certificate serial). Faults produce the failures a client must detect.
import { randomBytes, type KeyObject } from 'node:crypto';
import { unixSeconds } from '../clock';
import { certificateSerial, randomHex } from '../ids';
import type { SandboxKeys } from '../keys';
import { corruptSignature, signBase64 } from '../rsa';

export type WechatKeyMode = 'public-key' | 'platform-cert';

export type SignatureFault = 'signature' | 'probe' | 'stale-timestamp' | 'unknown-serial' | 'wrong-key' | 'unsigned';

export const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';

/** Answers follow the `Wechatpay-Serial` the merchant sent; public-key mode otherwise (docs/wechat-pay.md#verification-keys). */
export function keyModeFor(requestSerial: string | undefined, keys: SandboxKeys['wechat']): WechatKeyMode {
  return requestSerial === keys.platformCertSerial ? 'platform-cert' : 'public-key';
}

export interface SignOptions {
  mode: WechatKeyMode;
  fault?: SignatureFault;
  /** Required for the `wrong-key` fault. */
  stranger?: KeyObject;
}

export function signatureHeaders(keys: SandboxKeys['wechat'], body: string, opts: SignOptions): Record<string, string> {
  if (opts.fault === 'unsigned') return {};
  const staleBy = opts.fault === 'stale-timestamp' ? 600 : 0;
  const timestamp = String(unixSeconds() - staleBy);
  const nonce = randomHex(16).toUpperCase();
  const [signer, serial] =
    opts.mode === 'platform-cert' ? [keys.platformSigner, keys.platformCertSerial] : [keys.publicKeySigner, keys.publicKeyId];
  const key = opts.fault === 'wrong-key' ? opts.stranger : signer;
  if (!key) throw new Error('wrong-key fault needs a stranger key');
  let signature = signBase64(key, `${timestamp}\n${nonce}\n${body}\n`);
  if (opts.fault === 'signature') signature = corruptSignature(signature);
  // A probe never verifies, by design of WeChat Pay (docs/wechat-pay.md#probe-signatures).
  if (opts.fault === 'probe') signature = `WECHATPAY/SIGNTEST/${randomBytes(192).toString('base64')}`;
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Serial': opts.fault === 'unknown-serial' ? certificateSerial() : serial,
    'Wechatpay-Signature': signature,
    'Wechatpay-Signature-Type': SIGNATURE_TYPE,
  };
}
