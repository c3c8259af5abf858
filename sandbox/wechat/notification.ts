// Builds WeChat Pay payment notifications (docs/wechat-pay.md#payment-notifications): the Transaction object,
// AEAD_AES_256_GCM-encrypted with the API v3 key (12-char nonce, AAD, 16-byte tag appended,
// base64), wrapped in the envelope and signed over the exact body bytes (docs/wechat-pay.md#notification-signatures).
import { createCipheriv, type KeyObject } from 'node:crypto';
import { rfc3339Beijing } from '../clock';
import { deepMerge } from '../http';
import { randomAlnum, uuid } from '../ids';
import type { SandboxKeys } from '../keys';
import type { PreparedNotification } from '../notifier';
import type { WechatTrade } from '../store';
import { signatureHeaders, type WechatKeyMode } from './signature';
import { transactionObject } from './transaction';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
/** docs/wechat-pay.md#acknowledgement: resend intervals after a failed delivery (15 resends, about 24 h 4 min). */
export const WECHAT_RETRY_INTERVALS_MS = [
  15 * S,
  15 * S,
  30 * S,
  3 * M,
  10 * M,
  20 * M,
  30 * M,
  30 * M,
  30 * M,
  60 * M,
  3 * H,
  3 * H,
  3 * H,
  6 * H,
  6 * H,
] as const;

export type WechatTamper = 'signature' | 'probe' | 'stale-timestamp' | 'unknown-serial' | 'malformed-body' | 'wrong-key';
export const WECHAT_TAMPERS: readonly WechatTamper[] = [
  'signature',
  'probe',
  'stale-timestamp',
  'unknown-serial',
  'malformed-body',
  'wrong-key',
];

export interface WechatNotifyOptions {
  signWith: WechatKeyMode;
  tamper?: WechatTamper;
  override?: Record<string, unknown>;
  stranger?: KeyObject;
}

function encrypt(apiV3Key: string, plaintext: string, originalType: 'transaction' | 'refund' = 'transaction'): Record<string, string> {
  const nonce = randomAlnum(12);
  const associatedData = originalType;
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'ascii'), Buffer.from(nonce, 'ascii'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    original_type: originalType,
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: sealed.toString('base64'),
    associated_data: associatedData,
    nonce,
  };
}

export function prepareWechatNotification(
  keys: SandboxKeys['wechat'],
  trade: WechatTrade,
  opts: WechatNotifyOptions,
): PreparedNotification {
  const transaction = deepMerge(transactionObject(trade), opts.override ?? {});
  return prepareEnvelope(
    keys,
    trade.notifyUrl,
    {
      eventType: trade.state === 'SUCCESS' ? 'TRANSACTION.SUCCESS' : `TRANSACTION.${trade.state}`,
      summary: trade.state === 'SUCCESS' ? '支付成功' : '交易状态通知（沙箱）',
      originalType: 'transaction',
      resource: transaction,
    },
    opts,
  );
}

const REFUND_SUMMARY: Record<string, string> = { SUCCESS: '退款成功', ABNORMAL: '退款异常', CLOSED: '退款关闭' };

/**
 * A refund notification (docs/refunds.md): the same envelope, cipher and signature as a payment's, with
 * `original_type` refund, `event_type` REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED and the
 * refund's fields as the resource.
 */
export function prepareWechatRefundNotification(
  keys: SandboxKeys['wechat'],
  url: string,
  resource: Record<string, unknown>,
  status: string,
  opts: WechatNotifyOptions,
): PreparedNotification {
  return prepareEnvelope(
    keys,
    url,
    {
      eventType: `REFUND.${status}`,
      summary: REFUND_SUMMARY[status] ?? '退款通知（沙箱）',
      originalType: 'refund',
      resource: deepMerge(resource, opts.override ?? {}),
    },
    opts,
  );
}

interface EnvelopeContent {
  eventType: string;
  summary: string;
  originalType: 'transaction' | 'refund';
  resource: Record<string, unknown>;
}

function prepareEnvelope(
  keys: SandboxKeys['wechat'],
  url: string,
  content: EnvelopeContent,
  opts: WechatNotifyOptions,
): PreparedNotification {
  // The same id on every resend: whether WeChat keeps it is not documented (docs/wechat-pay.md#payment-notifications), so receivers
  // must dedupe on order and state anyway.
  const notificationId = uuid();
  const envelope = {
    id: notificationId,
    create_time: rfc3339Beijing(new Date()),
    resource_type: 'encrypt-resource',
    event_type: content.eventType,
    summary: content.summary,
    resource: encrypt(keys.apiV3Key, JSON.stringify(content.resource), content.originalType),
  };
  const body =
    opts.tamper === 'malformed-body'
      ? `{"id":"${notificationId}","event_type":"${content.eventType}","resource":{"ciphertext":` // cut short
      : JSON.stringify(envelope);
  return {
    notificationId,
    url,
    build(sendNo) {
      const tamper = opts.tamper === 'malformed-body' ? undefined : opts.tamper;
      // A probe is followed by a genuine resend (docs/wechat-pay.md#probe-signatures), so only the first send carries it.
      const fault = tamper === 'probe' && sendNo > 0 ? undefined : tamper;
      const headers = signatureHeaders(keys, body, { mode: opts.signWith, fault, stranger: opts.stranger });
      return {
        url,
        headers: { ...headers, 'Content-Type': 'application/json', 'User-Agent': 'Mozilla/4.0 (sandbox)' },
        body,
      };
    },
  };
}

/** docs/wechat-pay.md#acknowledgement: only the HTTP status counts; 200 or 204 is success whatever the body says. */
export function wechatAccepts(status: number): boolean {
  return status === 200 || status === 204;
}
