// `alipay.trade.precreate` (docs/alipay.md#precreate): validates the business content and returns a
// QR code. No trade exists until a buyer scans; before that the same out_trade_no may be
// precreated again, after it only an identical resubmission succeeds.
import { parseBeijingDateTime } from '../clock';
import { randomAlnum } from '../ids';
import { yuanToFen } from '../money';
import { settleAlipayExpiry, type AlipayExpiry, type AlipayOrder, type Store } from '../store';
import { failure, isNode, success, type AlipayNode } from './reply';

const MINUTE = 60_000;
const UNIT_MS: Record<string, number> = { m: MINUTE, h: 60 * MINUTE, d: 24 * 60 * MINUTE };
/** Default when no expiry is sent: not documented for precreate (docs/alipay.md#precreate); 3 h as in other 当面付 models. */
const DEFAULT_EXPIRY: AlipayExpiry = { kind: 'relative', ms: 3 * 60 * MINUTE, text: 'default 3h' };
const MAX_TOTAL_FEN = 100_000_000 * 100;

const invalid = (message: string): AlipayNode => failure('40004', 'ACQ.INVALID_PARAMETER', message);

/** `1m`…`15d` in whole units, or `1c` (until Beijing midnight). */
function parseRelativeExpiry(text: string): AlipayExpiry | null {
  if (text === '1c') return { kind: 'midnight', text };
  const m = /^([1-9]\d*)([mhd])$/.exec(text);
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms >= MINUTE && ms <= 15 * UNIT_MS.d ? { kind: 'relative', ms, text } : null;
}

export interface PrecreateInput {
  outTradeNo: string;
  totalFen: number;
  subject: string;
  body?: string;
  expiry: AlipayExpiry;
  qrExpiresAt?: Date;
}

const PRECREATE_PRODUCTS = ['FACE_TO_FACE_PAYMENT', 'OFFLINE_PAYMENT'];

/** The business content shared by precreate and the APP, WAP and page payments (which name their own products). */
export function validate(
  biz: Record<string, unknown>,
  now: Date,
  productCodes: readonly string[] = PRECREATE_PRODUCTS,
): PrecreateInput | AlipayNode {
  const { out_trade_no: outTradeNo, total_amount: amount, subject, body } = biz;
  // Alipay allows letters, digits and `_` (docs/alipay.md#precreate); `-` is accepted too (sandbox choice, see README).
  if (typeof outTradeNo !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(outTradeNo)) {
    return invalid('out_trade_no 必填，最长64位，仅限字母、数字、下划线');
  }
  const totalFen = typeof amount === 'string' || typeof amount === 'number' ? yuanToFen(String(amount)) : null;
  if (totalFen === null || totalFen < 1 || totalFen > MAX_TOTAL_FEN) {
    return invalid('total_amount 必须为两位小数以内的金额，范围 [0.01, 100000000]');
  }
  if (typeof subject !== 'string' || subject.trim() === '' || [...subject].length > 256) {
    return invalid('subject 必填，最长256个字符');
  }
  if (/[/=&]/.test(subject)) return invalid('subject 不能包含特殊字符 / = &');
  if (body !== undefined && typeof body !== 'string') return invalid('body 必须为字符串');
  const product = biz.product_code;
  if (product !== undefined && !productCodes.includes(product as string)) {
    return invalid('product_code 不支持');
  }
  let expiry: AlipayExpiry = DEFAULT_EXPIRY;
  if (biz.timeout_express !== undefined) {
    const relative = typeof biz.timeout_express === 'string' ? parseRelativeExpiry(biz.timeout_express) : null;
    if (!relative) return invalid('timeout_express 格式错误，取值 1m～15d 或 1c');
    expiry = relative;
  }
  // time_expire wins over timeout_express (docs/alipay.md#precreate; not documented for precreate).
  if (biz.time_expire !== undefined) {
    const at = typeof biz.time_expire === 'string' ? parseBeijingDateTime(biz.time_expire) : null;
    if (!at || at.getTime() <= now.getTime()) return invalid('time_expire 格式错误或早于当前时间');
    expiry = { kind: 'absolute', at, text: biz.time_expire as string };
  }
  let qrExpiresAt: Date | undefined;
  if (biz.qr_code_timeout_express !== undefined) {
    const qr = typeof biz.qr_code_timeout_express === 'string' ? parseRelativeExpiry(biz.qr_code_timeout_express) : null;
    if (!qr || qr.kind !== 'relative') return invalid('qr_code_timeout_express 格式错误');
    qrExpiresAt = new Date(now.getTime() + qr.ms);
  }
  return { outTradeNo, totalFen, subject, body, expiry, qrExpiresAt };
}

function newQrCode(): string {
  return `https://qr.alipay.com/bax0${randomAlnum(20).toLowerCase()}`;
}

export function precreate(store: Store, params: Record<string, string>, biz: Record<string, unknown>, now: Date): AlipayNode {
  const input = validate(biz, now);
  if (isNode(input)) return input;
  const existing = store.alipay.get(input.outTradeNo);
  if (existing?.trade) {
    const { status } = settleAlipayExpiry(existing, now).trade ?? {};
    if (status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED') return failure('40004', 'ACQ.TRADE_HAS_SUCCESS', '交易已被支付');
    if (status === 'TRADE_CLOSED') return failure('40004', 'ACQ.TRADE_HAS_CLOSE', '交易已经关闭');
    if (existing.totalFen !== input.totalFen || existing.subject !== input.subject) {
      return failure('40004', 'ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改');
    }
    return success({ out_trade_no: input.outTradeNo, qr_code: existing.qrCode });
  }
  // Not scanned yet: the new precreate replaces the old one; earlier QR codes lead to it too.
  const order: AlipayOrder = {
    ...input,
    appId: params.app_id,
    notifyUrl: params.notify_url,
    precreatedAt: now,
    qrCode: newQrCode(),
    notifications: existing?.notifications ?? [],
  };
  store.alipay.set(order.outTradeNo, order);
  store.rememberQr(order.qrCode, { provider: 'alipay', outTradeNo: order.outTradeNo, issuedAt: now });
  return success({ out_trade_no: order.outTradeNo, qr_code: order.qrCode });
}
