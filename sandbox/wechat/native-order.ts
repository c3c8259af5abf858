// Validation of `POST /v3/pay/transactions/native` bodies (docs/wechat-pay.md#native-orders). Pure: takes
// the parsed body and the clock, returns either the normalised order or the WeChat error.
import { parseRfc3339 } from '../clock';
import { isPlainObject } from '../http';
import type { SandboxKeys } from '../keys';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
/** Loopback hosts accepted over plain http, so a local memberpay can receive notifications. */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface NativeOrder {
  appid: string;
  mchid: string;
  description: string;
  outTradeNo: string;
  attach?: string;
  notifyUrl: string;
  totalFen: number;
  timeExpire: Date;
  fingerprint: string;
}

export interface WechatError {
  status: number;
  code: string;
  message: string;
  detail?: { field: string; value: unknown; issue: string; location: string };
}

export type NativeValidation = { ok: true; order: NativeOrder } | { ok: false; error: WechatError };

export function paramError(field: string, value: unknown, issue: string, location = 'body'): WechatError {
  return {
    status: 400,
    code: 'PARAM_ERROR',
    message: `参数错误: ${field} ${issue}`,
    detail: { field: `#/${field}`, value: value ?? null, issue, location },
  };
}

export function checkNotifyUrl(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return 'notify_url 为必填参数';
  if (value.length > 255) return 'notify_url 长度不能超过255';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'notify_url 格式错误';
  }
  if (value.includes('?') || value.includes('#')) return 'notify_url 不能携带参数';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return null;
  return 'notify_url 必须为https地址';
}

/** +1 minute floor, 90-day cap, 7-day default (docs/wechat-pay.md#native-orders). */
function effectiveExpiry(raw: unknown, now: Date): Date | string {
  if (raw === undefined) return new Date(now.getTime() + 7 * DAY);
  const parsed = typeof raw === 'string' ? parseRfc3339(raw) : null;
  if (!parsed) return 'time_expire 格式错误，应为 yyyy-MM-DDTHH:mm:ss+TIMEZONE';
  const t = Math.min(Math.max(parsed.getTime(), now.getTime() + MINUTE), now.getTime() + 90 * DAY);
  return new Date(t);
}

export function validateNativeOrder(body: unknown, keys: SandboxKeys['wechat'], now: Date): NativeValidation {
  const fail = (error: WechatError): NativeValidation => ({ ok: false, error });
  if (!isPlainObject(body)) return fail(paramError('', body, '请求体必须为JSON对象'));
  const { appid, mchid, description, out_trade_no: outTradeNo, attach, notify_url: notifyUrl, amount } = body;
  if (typeof mchid !== 'string' || mchid === '') return fail(paramError('mchid', mchid, '为必填字符串'));
  if (typeof appid !== 'string' || appid === '') return fail(paramError('appid', appid, '为必填字符串'));
  if (mchid !== keys.mchId) return fail({ status: 400, code: 'MCH_NOT_EXISTS', message: '商户号不存在' });
  if (!keys.boundAppIds.includes(appid)) {
    return fail({ status: 400, code: 'APPID_MCHID_NOT_MATCH', message: 'appid和mch_id不匹配' });
  }
  if (typeof description !== 'string' || description === '') {
    return fail(paramError('description', description, '为必填字符串'));
  }
  if ([...description].length > 127) return fail(paramError('description', description, '长度不能超过127'));
  if (typeof outTradeNo !== 'string' || !OUT_TRADE_NO.test(outTradeNo)) {
    return fail(paramError('out_trade_no', outTradeNo, '应为6-32位数字、大小写字母、_-|*'));
  }
  if (attach !== undefined && (typeof attach !== 'string' || [...attach].length > 128)) {
    return fail(paramError('attach', attach, '应为不超过128个字符的字符串'));
  }
  const urlIssue = checkNotifyUrl(notifyUrl);
  if (urlIssue) return fail(paramError('notify_url', notifyUrl, urlIssue));
  if (!isPlainObject(amount)) return fail(paramError('amount', amount, '为必填对象'));
  if (!Number.isInteger(amount.total) || (amount.total as number) < 1) {
    return fail(paramError('amount/total', amount.total, '应为不小于1的整数（分）'));
  }
  if (amount.currency !== undefined && amount.currency !== 'CNY') {
    return fail(paramError('amount/currency', amount.currency, '仅支持CNY'));
  }
  const timeExpire = effectiveExpiry(body.time_expire, now);
  if (typeof timeExpire === 'string') return fail(paramError('time_expire', body.time_expire, timeExpire));
  // Fields that must be identical for a resubmission to count as the same order (docs/wechat-pay.md#native-orders).
  const fingerprint = JSON.stringify([
    appid,
    mchid,
    description,
    attach ?? null,
    notifyUrl,
    amount.total,
    amount.currency ?? 'CNY',
    body.time_expire ?? null,
    body.goods_tag ?? null,
  ]);
  return {
    ok: true,
    order: {
      appid,
      mchid,
      description,
      outTradeNo,
      attach,
      notifyUrl: notifyUrl as string,
      totalFen: amount.total as number,
      timeExpire,
      fingerprint,
    },
  };
}
