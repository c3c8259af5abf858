import type { KeyObject } from 'node:crypto';
import { Aes, Rsa } from 'wechatpay-axios-plugin';
import type { WechatPayConfig } from '../../../config/providers/wechat-pay.settings';
import { NotificationRejected, RawNotification } from '../../payment-provider';
import type { WechatNotificationEnvelope, WechatRefund, WechatTransaction } from './wechat-pay.types';
import { wechatAppIds } from './wechat-pay.channels';

/** The official SDKs reject |now − Wechatpay-Timestamp| ≥ 300 s (docs/wechat-pay.md#clock-window). */
export const CLOCK_WINDOW_SECONDS = 300;
const PROBE_PREFIX = 'WECHATPAY/SIGNTEST/';
/** The largest refused body read for the payment number it names (namedWechatPaymentNo). */
const NAMED_BODY_LIMIT = 16 * 1024;

const header = (raw: RawNotification, name: string): string | undefined => {
  const v = raw.headers[name.toLowerCase()];
  return Array.isArray(v) ? undefined : v; // a repeated signature header is not trusted
};

/** A notification whose envelope verified and whose resource decrypted, for our merchant. */
export interface OpenedWechatNotification {
  resource: Record<string, unknown> & { mchid?: string };
  eventId?: string;
  eventType: string;
}

/**
 * The verification pipeline for a WeChat Pay notification (docs/wechat-pay.md#notification-signatures, #notification-decryption, #sdk):
 * every header present, a known key id, a fresh timestamp, no probe signature, a signature over
 * the exact bytes received, then AES-256-GCM decryption with the API v3 key, then our ids.
 * The plugin has no ready notification handler, so the steps are ours; the crypto is the plugin's.
 */
export function verifyWechatNotification(
  raw: RawNotification,
  config: WechatPayConfig,
  verifiers: Record<string, KeyObject>,
  now: Date,
): { tx: WechatTransaction; eventId?: string; eventType: string } {
  return asWechatPayment(openWechatNotification(raw, config, verifiers, now), config);
}

/** A payment result's own checks: one of our app ids, an out_trade_no. */
export function asWechatPayment(
  opened: OpenedWechatNotification,
  config: WechatPayConfig,
): { tx: WechatTransaction; eventId?: string; eventType: string } {
  const resource = opened.resource as WechatTransaction;
  // APP and JSAPI payments carry their own app id: any app id configured for a channel is ours.
  if (!wechatAppIds(config).includes(String(resource.appid)))
    throw new NotificationRejected('WRONG_APP_ID', 'the notification is for another app');
  if (typeof resource.out_trade_no !== 'string' || !resource.out_trade_no)
    throw new NotificationRejected('MALFORMED_RESOURCE', 'out_trade_no is missing');
  return { tx: resource, eventId: opened.eventId, eventType: opened.eventType };
}

/**
 * A refund notification (docs/refunds.md): the same envelope, signature and cipher as a payment's, so the same
 * pipeline; only the resource differs (a refund, which carries no appid).
 */
export function verifyWechatRefundNotification(
  raw: RawNotification,
  config: WechatPayConfig,
  verifiers: Record<string, KeyObject>,
  now: Date,
): { refund: WechatRefund; eventId?: string; eventType: string } {
  return asWechatRefund(openWechatNotification(raw, config, verifiers, now));
}

/** A refund result's own check: an out_refund_no. */
export function asWechatRefund(opened: OpenedWechatNotification): { refund: WechatRefund; eventId?: string; eventType: string } {
  const resource = opened.resource as WechatRefund;
  if (typeof resource.out_refund_no !== 'string' || !resource.out_refund_no)
    throw new NotificationRejected('MALFORMED_RESOURCE', 'out_refund_no is missing');
  return { refund: resource, eventId: opened.eventId, eventType: opened.eventType };
}

/** Steps common to every WeChat Pay notification: verified, fresh, decrypted, for our merchant. */
export function openWechatNotification(
  raw: RawNotification,
  config: WechatPayConfig,
  verifiers: Record<string, KeyObject>,
  now: Date,
): OpenedWechatNotification {
  const timestamp = header(raw, 'Wechatpay-Timestamp');
  const nonce = header(raw, 'Wechatpay-Nonce');
  const signature = header(raw, 'Wechatpay-Signature');
  const serial = header(raw, 'Wechatpay-Serial');
  if (!timestamp || !nonce || !signature || !serial) {
    throw new NotificationRejected('HEADERS_INCOMPLETE', 'Wechatpay-Timestamp, -Nonce, -Signature and -Serial are all required');
  }
  if (signature.startsWith(PROBE_PREFIX)) throw new NotificationRejected('PROBE_SIGNATURE', 'probe signature (WECHATPAY/SIGNTEST/)');
  const publicKey = Object.hasOwn(verifiers, serial) ? verifiers[serial] : undefined;
  if (!publicKey) throw new NotificationRejected('UNKNOWN_SERIAL', 'Wechatpay-Serial names no key we hold');
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now.getTime() / 1000 - Number(timestamp)) >= CLOCK_WINDOW_SECONDS) {
    throw new NotificationRejected('STALE_TIMESTAMP', 'Wechatpay-Timestamp is more than 5 minutes off');
  }
  // Verify the raw bytes: re-serialised JSON would not match what WeChat Pay signed.
  const message = Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), raw.rawBody, Buffer.from('\n')]);
  let valid: boolean;
  try {
    valid = Rsa.verify(message as unknown as string, signature, publicKey as unknown as string); // typed as strings, takes any BinaryLike and KeyLike
  } catch {
    valid = false;
  }
  if (!valid) throw new NotificationRejected('BAD_SIGNATURE', 'the signature does not verify');

  const envelope = parseJson<WechatNotificationEnvelope>(raw.rawBody.toString('utf8'), 'the body is not JSON');
  const sealed = envelope.resource;
  if (!sealed || sealed.algorithm !== 'AEAD_AES_256_GCM' || typeof sealed.ciphertext !== 'string' || typeof sealed.nonce !== 'string') {
    throw new NotificationRejected('MALFORMED_RESOURCE', 'the resource is missing or not AEAD_AES_256_GCM');
  }
  let plaintext: string;
  try {
    plaintext = Aes.AesGcm.decrypt(sealed.ciphertext, config.apiV3Key, sealed.nonce, sealed.associated_data ?? '');
  } catch {
    throw new NotificationRejected('DECRYPTION_FAILED', 'the resource does not decrypt with our API v3 key');
  }
  const resource = parseJson<OpenedWechatNotification['resource']>(plaintext, 'the decrypted resource is not JSON');
  if (resource.mchid !== config.mchId) throw new NotificationRejected('WRONG_MCHID', 'the notification is for another merchant');
  return { resource, eventId: envelope.id, eventType: String(envelope.event_type ?? '') };
}

/**
 * The out_trade_no inside a notification that was refused, whatever its signature or timestamp:
 * the resource decrypted with our API v3 key, without the envelope's checks. AES-GCM authenticates
 * with that key, so only a notification sealed with it (WeChat Pay's own, replayed, re-signed or
 * sent late) names anything here: a forger without the key names no order. Untrusted; never throws.
 */
export function namedWechatPaymentNo(raw: RawNotification, config: WechatPayConfig): string | null {
  // A notification is a kilobyte or two: a body far larger is nobody's payment result, and is not decrypted for nothing.
  if (raw.rawBody.length > NAMED_BODY_LIMIT) return null;
  try {
    const sealed = (JSON.parse(raw.rawBody.toString('utf8')) as WechatNotificationEnvelope)?.resource;
    if (!sealed || typeof sealed.ciphertext !== 'string' || typeof sealed.nonce !== 'string') return null;
    const resource = JSON.parse(Aes.AesGcm.decrypt(sealed.ciphertext, config.apiV3Key, sealed.nonce, sealed.associated_data ?? '')) as {
      out_trade_no?: unknown;
    };
    return typeof resource?.out_trade_no === 'string' ? resource.out_trade_no : null;
  } catch {
    return null;
  }
}

function parseJson<T>(text: string, message: string): T {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as T;
  } catch {
    // fall through
  }
  throw new NotificationRejected('MALFORMED_BODY', message);
}
