import type { AlipaySdk } from 'alipay-sdk';
import { NotificationRejected, type RawNotification } from '../../payment-provider';
import type { AlipayConfig } from '../../../config/providers/alipay.settings';
import type { AlipayNotification } from './alipay.types';

/**
 * A notification's form fields, once its RSA2 signature verifies with Alipay's public key
 * (docs/alipay.md#notification-signatures); the return page's query is checked by the same rule
 * (docs/alipay.md#return-url). A field sent twice is refused: which of the two was signed is unknown.
 */
export function verifiedAlipayFields(sdk: AlipaySdk, form: string): AlipayNotification {
  const params = new URLSearchParams(form);
  const fields: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in fields) throw new NotificationRejected('MALFORMED_BODY', `the field ${key} appears twice`);
    fields[key] = value;
  }
  if (!fields.sign) throw new NotificationRejected('MISSING_SIGNATURE', 'the notification is not signed');
  if (fields.sign_type && fields.sign_type !== 'RSA2') throw new NotificationRejected('BAD_SIGNATURE', 'only RSA2 signatures are accepted');
  let valid: boolean;
  try {
    // The documented string first (sign and sign_type left out): one RSA verification for every genuine
    // notification. checkNotifySignV2 tries the string with sign_type kept before it, which Alipay's
    // notifications never sign, so on its own it made two; it stays the fallback, so what is accepted
    // is what it accepts. V2: the values are already form-decoded, and checkNotifySign would decode
    // them again and break on '%' (docs/alipay.md#sdk).
    valid = sdk.rsaCheck(signedContent(fields), fields.sign, 'RSA2') || sdk.checkNotifySignV2({ ...fields });
  } catch {
    valid = false;
  }
  if (!valid) throw new NotificationRejected('BAD_SIGNATURE', 'the signature does not verify');
  return fields;
}

/** What Alipay signs a notification over (docs/alipay.md#notification-signatures): key=value of every field but sign and sign_type, by key. */
function signedContent(fields: Record<string, string>): string {
  return Object.keys(fields)
    .filter((key) => key !== 'sign' && key !== 'sign_type')
    .sort()
    .map((key) => `${key}=${fields[key]}`)
    .join('&');
}

/**
 * A payment notification (docs/alipay.md#notifications): signed by Alipay, for our app and, when
 * configured, our seller, naming one of our attempts. What it says of the payment is the provider's
 * to read (amount, currency).
 */
export function verifyAlipayNotification(
  raw: RawNotification,
  config: AlipayConfig,
  sdk: AlipaySdk,
): AlipayNotification & { out_trade_no: string } {
  const fields = verifiedAlipayFields(sdk, raw.rawBody.toString('utf8'));
  if (fields.app_id !== config.appId) throw new NotificationRejected('WRONG_APP_ID', 'the notification is for another app');
  if (config.sellerId && fields.seller_id !== config.sellerId) {
    throw new NotificationRejected('WRONG_SELLER_ID', 'the notification is for another seller');
  }
  if (!fields.out_trade_no) throw new NotificationRejected('MALFORMED_BODY', 'out_trade_no is missing');
  return fields as AlipayNotification & { out_trade_no: string };
}

/**
 * The out_trade_no a refused notification's form names, signed or not (Alipay sends it in the
 * clear). Untrusted; null when absent or sent twice (which of the two would be meant is unknown).
 */
export function namedAlipayPaymentNo(raw: RawNotification): string | null {
  try {
    const values = new URLSearchParams(raw.rawBody.toString('utf8')).getAll('out_trade_no');
    return values.length === 1 && values[0] ? values[0] : null;
  } catch {
    return null;
  }
}
