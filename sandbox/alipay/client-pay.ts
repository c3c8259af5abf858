// APP, WAP and page payments (docs/channels.md#alipay): memberpay signs the request locally (alipay-sdk
// sdkExecute / pageExecute) and the buyer's Alipay app or browser carries it to Alipay. Alipay
// checks it as a gateway request (docs/alipay.md#request-signatures) and the trade exists from that moment: opening it is the
// "scan" of these channels. WAP and page bring the browser back to return_url, signed (docs/alipay.md#return-url).
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import { isPlainObject } from '../http';
import { randomAlnum } from '../ids';
import { fenToYuan } from '../money';
import { signBase64 } from '../rsa';
import { settleAlipayExpiry, type AlipayOrder } from '../store';
import { validate } from './precreate';
import { isNode } from './reply';
import { checkRequest } from './request-check';
import { scanOrder } from './trade';

/** Each client method and the product it must name. */
export const CLIENT_METHODS: Record<string, string> = {
  'alipay.trade.app.pay': 'QUICK_MSECURITY_PAY',
  'alipay.trade.wap.pay': 'QUICK_WAP_WAY',
  'alipay.trade.page.pay': 'FAST_INSTANT_TRADE_PAY',
};
export const PAGE_METHODS = ['alipay.trade.wap.pay', 'alipay.trade.page.pay'];

/**
 * Verifies a client-carried request (signature, app id, timestamp, method among `methods`) and
 * opens its trade. Returns the order, or why Alipay would refuse it.
 */
export function openClientRequest(
  ctx: SandboxContext,
  params: Record<string, string>,
  methods: readonly string[],
  now: Date,
): AlipayOrder | string {
  const refused = checkRequest(params, ctx.keys.alipay, methods, now);
  if (refused) return `${refused.code} ${refused.sub_code}: ${refused.sub_msg}`;
  let biz: unknown;
  try {
    biz = JSON.parse(params.biz_content ?? '');
  } catch {
    biz = undefined;
  }
  if (!isPlainObject(biz)) return '40004 ACQ.INVALID_PARAMETER: biz_content 缺失或不是JSON对象';
  const product = CLIENT_METHODS[params.method];
  if (biz.product_code !== product) return `40004 ACQ.INVALID_PARAMETER: product_code 应为 ${product}`;
  const input = validate(biz, now, [product]);
  if (isNode(input)) return `${input.code} ${input.sub_code}: ${input.sub_msg}`;
  const existing = ctx.store.alipay.get(input.outTradeNo);
  if (existing?.trade) {
    const status = settleAlipayExpiry(existing, now).trade!.status;
    if (status !== 'WAIT_BUYER_PAY') return `40004 ACQ.TRADE_HAS_${status === 'TRADE_CLOSED' ? 'CLOSE' : 'SUCCESS'}: 交易状态为 ${status}`;
    if (existing.totalFen !== input.totalFen || existing.subject !== input.subject) return '40004 ACQ.CONTEXT_INCONSISTENT: 交易信息被篡改';
    return existing;
  }
  const token = `sandbox-alipay:${params.method}:${randomAlnum(16)}`;
  const order: AlipayOrder = {
    ...input,
    appId: params.app_id,
    notifyUrl: params.notify_url,
    precreatedAt: now,
    qrCode: token,
    method: params.method,
    returnUrl: params.return_url,
    notifications: [],
  };
  const trade = scanOrder(order, now);
  if (typeof trade === 'string') return trade;
  ctx.store.alipay.set(order.outTradeNo, order);
  ctx.store.rememberQr(token, { provider: 'alipay', outTradeNo: order.outTradeNo, issuedAt: now });
  ctx.log(`[alipay] ${params.method} opened ${order.outTradeNo} ${order.totalFen} fen`);
  return order;
}

/** The query string of an APP order string or a pageExecute URL, form-decoded. */
export function paramsOf(query: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  return params;
}

/** The browser's way back after a WAP or page payment, signed like a notification. */
export function signedReturnUrl(ctx: SandboxContext, order: AlipayOrder): string | null {
  if (!order.returnUrl || !order.trade || !order.method) return null;
  const keys = ctx.keys.alipay;
  const fields: Record<string, string> = {
    charset: 'utf-8',
    out_trade_no: order.outTradeNo,
    method: `${order.method}.return`,
    total_amount: fenToYuan(order.totalFen),
    trade_no: order.trade.tradeNo,
    auth_app_id: keys.appId,
    version: '1.0',
    app_id: keys.appId,
    seller_id: keys.sellerId,
    timestamp: beijingDateTime(new Date()),
  };
  const content = Object.keys(fields)
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
  const query = new URLSearchParams({ ...fields, sign: signBase64(keys.alipaySigner, content), sign_type: 'RSA2' });
  return `${order.returnUrl}${order.returnUrl.includes('?') ? '&' : '?'}${query.toString()}`;
}
