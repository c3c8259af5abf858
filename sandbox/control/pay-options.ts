// Options of `POST /sandbox/pay` (see sandbox/README.md). JSON bodies carry typed values; the
// HTML page posts a form, whose values arrive as strings and are coerced here.
import type { Provider } from '../faults';
import { isPlainObject } from '../http';
import type { AlipayTradeStatus } from '../store';
import { ALIPAY_TAMPERS, type AlipayTamper } from '../alipay/notification';
import { WECHAT_TAMPERS, type WechatTamper } from '../wechat/notification';
import type { WechatKeyMode } from '../wechat/signature';

export type Delivery = 'normal' | 'drop' | 'duplicate' | 'concurrent' | 'none';
const DELIVERIES: readonly Delivery[] = ['normal', 'drop', 'duplicate', 'concurrent', 'none'];
const TRADE_STATUSES: readonly AlipayTradeStatus[] = ['WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_CLOSED'];
const MAX_COPIES = 1000;
const MAX_DELAY_MS = 10 * 60_000;

export interface PayOptions {
  delivery: Delivery;
  copies: number;
  delayMs: number;
  signWith: WechatKeyMode;
  tamper?: WechatTamper | AlipayTamper;
  override?: Record<string, unknown>;
  tradeStatus?: AlipayTradeStatus;
  pay: boolean;
}

function integer(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return value === undefined ? undefined : NaN;
}

/** Returns the options, or an error message for a 400. */
export function parsePayOptions(body: Record<string, unknown>, provider: Provider): PayOptions | string {
  const delivery = (body.delivery ?? 'normal') as Delivery;
  if (!DELIVERIES.includes(delivery)) return `delivery must be one of ${DELIVERIES.join(', ')}`;
  const copies = integer(body.copies) ?? (delivery === 'concurrent' || delivery === 'duplicate' ? 2 : 1);
  if (!Number.isInteger(copies) || copies < 1 || copies > MAX_COPIES) return `copies must be an integer 1..${MAX_COPIES}`;
  if (body.copies !== undefined && delivery !== 'concurrent' && delivery !== 'duplicate') {
    return "copies only applies to delivery 'concurrent' or 'duplicate'";
  }
  const delayMs = integer(body.delayMs) ?? 0;
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) return `delayMs must be an integer 0..${MAX_DELAY_MS}`;
  const signWith = (body.signWith ?? 'public-key') as WechatKeyMode;
  if (signWith !== 'public-key' && signWith !== 'platform-cert') return "signWith must be 'public-key' or 'platform-cert'";
  if (provider === 'alipay' && body.signWith !== undefined) return 'signWith only applies to WeChat Pay';
  const tampers: readonly string[] = provider === 'wechat' ? WECHAT_TAMPERS : ALIPAY_TAMPERS;
  if (body.tamper !== undefined && !tampers.includes(body.tamper as string)) {
    return `tamper for ${provider} must be one of ${tampers.join(', ')}`;
  }
  let override = body.override;
  if (typeof override === 'string') {
    try {
      override = JSON.parse(override || '{}');
    } catch {
      return 'override must be a JSON object';
    }
  }
  if (override !== undefined && !isPlainObject(override)) return 'override must be a JSON object';
  const tradeStatus = body.tradeStatus as AlipayTradeStatus | undefined;
  if (tradeStatus !== undefined && (provider !== 'alipay' || !TRADE_STATUSES.includes(tradeStatus))) {
    return `tradeStatus applies to Alipay only and must be one of ${TRADE_STATUSES.join(', ')}`;
  }
  const pay = body.pay === undefined ? true : body.pay === true || body.pay === 'true';
  if (body.pay !== undefined && !['true', 'false', true, false].includes(body.pay as string | boolean)) {
    return 'pay must be a boolean';
  }
  return {
    delivery,
    copies,
    delayMs,
    signWith,
    pay,
    tradeStatus,
    tamper: body.tamper as PayOptions['tamper'],
    override: override as Record<string, unknown> | undefined,
  };
}
