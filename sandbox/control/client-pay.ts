// What the buyer's client does with what memberpay gave it, checked as the real client or provider
// would before anything is paid (docs/channels.md):
// - WeChat APP: the OpenSDK's PayReq; WeChat verifies `sign` (merchant key) over
//   appid\ntimestamp\nnoncestr\nprepayid\n and that the prepay_id belongs to that app.
// - WeChat JSAPI: getBrandWCPayRequest / wx.requestPayment; `paySign` over
//   appId\ntimeStamp\nnonceStr\npackage\n, and the WeChat user must be the order's payer.
// - WeChat H5: the h5_url, valid about 5 minutes.
// - Alipay APP: the order string; WAP/page: the pageExecute URL. Both are gateway requests whose
//   signature Alipay verifies; the trade exists from then on.
// A wrong signature from memberpay fails here as it would on a phone.
import type { SandboxContext } from '../context';
import { isPlainObject } from '../http';
import { verifyBase64 } from '../rsa';
import { settleWechatExpiry, type QrRef, type WechatTrade } from '../store';
import { openClientRequest, PAGE_METHODS, paramsOf } from '../alipay/client-pay';
import { H5_URL_TTL_MS, PREPAY_TTL_MS } from '../wechat/phone-orders';
import type { ControlAnswer } from './pay';
import { randomAlnum } from '../ids';

/** The fields of `POST /sandbox/pay` that name a client-side payment instead of `qr`. */
export const CLIENT_FIELDS = ['wechat_app', 'wechat_jsapi', 'h5_url', 'alipay_order_string', 'alipay_url'] as const;

const refuse = (status: number, error: string): ControlAnswer => ({ status, body: { error } });

export function hasClientPayload(body: Record<string, unknown>): boolean {
  return CLIENT_FIELDS.some((f) => body[f] !== undefined);
}

function strings(value: unknown, names: readonly string[]): Record<string, string> | string {
  if (!isPlainObject(value)) return 'must be an object';
  const missing = names.filter((n) => typeof value[n] !== 'string' || value[n] === '');
  return missing.length ? `misses ${missing.join(', ')}` : (value as Record<string, string>);
}

function prepayTrade(ctx: SandboxContext, prepayId: string, now: Date): WechatTrade | ControlAnswer {
  const outTradeNo = ctx.store.prepay.get(prepayId);
  const trade = outTradeNo ? ctx.store.wechat.get(outTradeNo) : undefined;
  if (!trade || trade.prepayId !== prepayId) return refuse(404, `unknown or replaced prepay_id ${prepayId}`);
  if (now.getTime() - (trade.prepayIssuedAt?.getTime() ?? 0) > PREPAY_TTL_MS)
    return refuse(409, 'this prepay_id is older than 2 hours and has expired');
  return settleWechatExpiry(trade, now);
}

const ref = (provider: 'wechat' | 'alipay', outTradeNo: string): QrRef => ({ provider, outTradeNo, issuedAt: new Date(0) });

function wechatApp(ctx: SandboxContext, value: unknown, now: Date): QrRef | ControlAnswer {
  const req = strings(value, ['appid', 'partnerid', 'prepayid', 'package', 'noncestr', 'timestamp', 'sign']);
  if (typeof req === 'string') return refuse(400, `wechat_app ${req}`);
  if (req.package !== 'Sign=WXPay') return refuse(400, 'WeChat refuses the PayReq: package must be Sign=WXPay');
  if (req.partnerid !== ctx.keys.wechat.mchId) return refuse(400, 'WeChat refuses the PayReq: partnerid is not the merchant of the order');
  const trade = prepayTrade(ctx, req.prepayid, now);
  if ('status' in trade) return trade;
  if (trade.tradeType !== 'APP' || req.appid !== trade.appid)
    return refuse(400, 'WeChat refuses the PayReq: the prepay_id was not issued for this app');
  const message = `${req.appid}\n${req.timestamp}\n${req.noncestr}\n${req.prepayid}\n`;
  if (!verifyBase64(ctx.keys.wechat.merchantPublicKey, message, req.sign))
    return refuse(400, 'WeChat refuses the PayReq: sign does not verify with the merchant key');
  return ref('wechat', trade.outTradeNo);
}

function wechatJsapi(ctx: SandboxContext, value: unknown, openid: unknown, now: Date): QrRef | ControlAnswer {
  const req = strings(value, ['appId', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign']);
  if (typeof req === 'string') return refuse(400, `wechat_jsapi ${req}`);
  if (req.signType !== 'RSA') return refuse(400, 'getBrandWCPayRequest fails: signType must be RSA');
  const m = /^prepay_id=(.+)$/.exec(req.package);
  if (!m) return refuse(400, 'getBrandWCPayRequest fails: package must be prepay_id=…');
  const trade = prepayTrade(ctx, m[1], now);
  if ('status' in trade) return trade;
  if (trade.tradeType !== 'JSAPI' || req.appId !== trade.appid)
    return refuse(400, 'getBrandWCPayRequest fails: the prepay_id was not issued for this appId');
  const message = `${req.appId}\n${req.timeStamp}\n${req.nonceStr}\n${req.package}\n`;
  if (!verifyBase64(ctx.keys.wechat.merchantPublicKey, message, req.paySign))
    return refuse(400, 'getBrandWCPayRequest fails: paySign does not verify with the merchant key');
  if (openid !== undefined && openid !== trade.payerOpenid)
    return refuse(400, "getBrandWCPayRequest fails: this WeChat user is not the order's payer");
  return ref('wechat', trade.outTradeNo);
}

function wechatH5(ctx: SandboxContext, value: unknown, now: Date): QrRef | ControlAnswer {
  if (typeof value !== 'string') return refuse(400, 'h5_url must be a string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse(400, 'h5_url is not a URL');
  }
  const trade = prepayTrade(ctx, url.searchParams.get('prepay_id') ?? '', now);
  if ('status' in trade) return trade;
  if (trade.tradeType !== 'MWEB' || !trade.h5Url) return refuse(400, 'not an h5_url of this sandbox');
  if (now.getTime() - trade.prepayIssuedAt!.getTime() > H5_URL_TTL_MS)
    return refuse(409, 'this h5_url is older than 5 minutes and has expired');
  return ref('wechat', trade.outTradeNo);
}

function alipay(ctx: SandboxContext, query: unknown, methods: readonly string[], now: Date): QrRef | ControlAnswer {
  if (typeof query !== 'string' || query === '') return refuse(400, 'the Alipay request must be a non-empty string');
  const order = openClientRequest(ctx, paramsOf(query.includes('?') ? query.slice(query.indexOf('?') + 1) : query), methods, now);
  if (typeof order === 'string') return refuse(400, `Alipay refuses the request: ${order}`);
  return ref('alipay', order.outTradeNo);
}

/** Checks the client payload of `body` and names its trade, or answers why the client fails. */
export function openByClient(ctx: SandboxContext, body: Record<string, unknown>): QrRef | ControlAnswer {
  const now = new Date();
  const given = CLIENT_FIELDS.filter((f) => body[f] !== undefined);
  if (given.length !== 1 || body.qr !== undefined || body.out_trade_no !== undefined)
    return refuse(400, `give exactly one of qr, out_trade_no, ${CLIENT_FIELDS.join(', ')}`);
  switch (given[0]) {
    case 'wechat_app':
      return wechatApp(ctx, body.wechat_app, now);
    case 'wechat_jsapi':
      return wechatJsapi(ctx, body.wechat_jsapi, body.openid, now);
    case 'h5_url':
      return wechatH5(ctx, body.h5_url, now);
    case 'alipay_order_string':
      return alipay(ctx, body.alipay_order_string, ['alipay.trade.app.pay'], now);
    default:
      return alipay(ctx, body.alipay_url, PAGE_METHODS, now);
  }
}

/**
 * `POST /sandbox/open`: the client's checks of `/sandbox/pay` without paying; answers the pay
 * page where a person finishes the payment (every channel becomes payable from a browser, but
 * only once what memberpay gave the client has passed those checks).
 */
export function openForPage(ctx: SandboxContext, body: Record<string, unknown>): ControlAnswer {
  const ref = openByClient(ctx, body);
  if ('status' in ref) return ref;
  const token = `sandbox-open:${randomAlnum(20)}`;
  ctx.store.rememberQr(token, { ...ref, issuedAt: new Date() });
  return {
    status: 200,
    body: { provider: ref.provider, out_trade_no: ref.outTradeNo, pay_page: `${ctx.url}/sandbox/pay?qr=${encodeURIComponent(token)}` },
  };
}
