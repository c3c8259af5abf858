import { randomBytes } from 'node:crypto';
import { beijingDateTimeOf } from './beijing-day';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/** yyyyMMddHHmmss in Beijing time: numbers sort by time and read naturally in support calls. */
function stamp(now: Date): string {
  return beijingDateTimeOf(now).replace(/\D/g, '');
}

function random(n: number): string {
  const bytes = randomBytes(n);
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/**
 * Order numbers (28 characters) and payment numbers (out_trade_no, 28 characters) are
 * alphanumeric only: WeChat Pay allows [0-9A-Za-z_-|*] up to 32, Alipay [A-Za-z0-9_] up to 64.
 */
export const newOrderNo = (now: Date) => `MO${stamp(now)}${random(12)}`;
export const newPaymentNo = (now: Date) => `MP${stamp(now)}${random(12)}`;
/** Refund numbers (out_refund_no / out_request_no, 28 characters), the same shape. */
export const newRefundNo = (now: Date) => `RF${stamp(now)}${random(12)}`;
/** Contract numbers (WeChat contract_code, Alipay external_agreement_no: at most 32 letters and digits), the same shape. */
export const newContractNo = (now: Date) => `AR${stamp(now)}${random(12)}`;
