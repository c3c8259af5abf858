// `POST /v3/pay/transactions/{app,jsapi,h5}` (docs/channels.md#wechat-pay): the Native order's body
// and rules (docs/wechat-pay.md#native-orders) at another endpoint, plus each channel's own fields, answering a prepay_id (APP, JSAPI) or
// an h5_url (H5) instead of a code_url. The client then pays with parameters memberpay signs; the
// control endpoint checks them as the WeChat client would (control/client-pay.ts).
import { isIP } from 'node:net';
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import { isPlainObject } from '../http';
import { randomAlnum, randomDigits } from '../ids';
import { settleWechatExpiry, type WechatTrade, type WechatTradeType } from '../store';
import { paramError, validateNativeOrder, type WechatError } from './native-order';
import { errorBody, type WechatAnswer } from './reply';

/** docs/channels.md: a prepay_id is valid for 2 hours, an h5_url for about 5 minutes. */
export const PREPAY_TTL_MS = 2 * 3600_000;
export const H5_URL_TTL_MS = 5 * 60_000;

export type PhoneKind = 'app' | 'jsapi' | 'h5';
const TRADE_TYPE: Record<PhoneKind, WechatTradeType> = { app: 'APP', jsapi: 'JSAPI', h5: 'MWEB' };
const H5_TYPES = ['Wap', 'iOS', 'Android'];

const fail = (e: WechatError): WechatAnswer => ({ status: e.status, body: errorBody(e.code, e.message, e.detail) });

/** `wx` + Beijing yyyyMMddHHmmss + 20 characters, the shape of WeChat's examples. */
function newPrepayId(now: Date): string {
  return `wx${beijingDateTime(now).replace(/\D/g, '')}${randomAlnum(20).toLowerCase()}`;
}

/** Which app ids may open which channel: APP needs the mobile app's id, JSAPI and H5 an official account or mini program. */
function appIdAllowed(kind: PhoneKind, appid: string, keys: SandboxContext['keys']['wechat']): boolean {
  return kind === 'app' ? appid === keys.appAppId : appid !== keys.appAppId;
}

/** The channel's own fields; returns what goes into the trade, or the WeChat error. */
function channelFields(
  ctx: SandboxContext,
  kind: PhoneKind,
  body: Record<string, unknown>,
  appid: string,
): { payerOpenid?: string; extra: unknown } | WechatError {
  if (kind === 'jsapi') {
    const openid = isPlainObject(body.payer) ? body.payer.openid : undefined;
    if (typeof openid !== 'string' || openid === '' || openid.length > 128) return paramError('payer/openid', openid ?? null, '为必填参数');
    // The openid must have been issued under this very app id (an official account's openid
    // means nothing to a mini program).
    if (ctx.store.openids.get(openid) !== appid) return { status: 400, code: 'PARAM_ERROR', message: 'appid和openid不匹配' };
    return { payerOpenid: openid, extra: openid };
  }
  if (kind === 'h5') {
    const scene = body.scene_info;
    if (!isPlainObject(scene)) return paramError('scene_info', scene ?? null, '为必填参数');
    if (typeof scene.payer_client_ip !== 'string' || !isIP(scene.payer_client_ip)) {
      return paramError('scene_info/payer_client_ip', scene.payer_client_ip ?? null, '应为用户终端IP');
    }
    const h5 = scene.h5_info;
    if (!isPlainObject(h5) || typeof h5.type !== 'string' || !H5_TYPES.includes(h5.type)) {
      return paramError('scene_info/h5_info/type', isPlainObject(h5) ? (h5.type ?? null) : null, `为必填参数，取值 ${H5_TYPES.join('/')}`);
    }
    return { extra: [scene.payer_client_ip, h5.type] };
  }
  return { extra: null };
}

function answerOf(ctx: SandboxContext, trade: WechatTrade, kind: PhoneKind, now: Date): WechatAnswer {
  if (kind !== 'h5') return { status: 200, body: { prepay_id: trade.prepayId } };
  if (!trade.h5Url || now.getTime() - (trade.prepayIssuedAt?.getTime() ?? 0) > H5_URL_TTL_MS) {
    trade.prepayId = newPrepayId(now);
    trade.prepayIssuedAt = now;
    trade.h5Url = `${ctx.url}/sandbox/wechat/h5?prepay_id=${trade.prepayId}&package=${randomDigits(10)}`;
    ctx.store.prepay.set(trade.prepayId, trade.outTradeNo);
    ctx.store.rememberQr(trade.h5Url, { provider: 'wechat', outTradeNo: trade.outTradeNo, issuedAt: now });
  }
  return { status: 200, body: { h5_url: trade.h5Url } };
}

export function phoneOrder(ctx: SandboxContext, kind: PhoneKind, body: unknown, now: Date): WechatAnswer {
  const { keys, store } = ctx;
  const checked = validateNativeOrder(body, keys.wechat, now);
  if (!checked.ok) return fail(checked.error);
  const order = checked.order;
  if (!appIdAllowed(kind, order.appid, keys.wechat)) {
    return { status: 400, body: errorBody('APPID_MCHID_NOT_MATCH', `appid不能用于${TRADE_TYPE[kind]}支付`) };
  }
  const fields = channelFields(ctx, kind, body as Record<string, unknown>, order.appid);
  if ('code' in fields) return fail(fields);
  // Resubmission: the channel and its fields are part of "the same parameters" (docs/wechat-pay.md#native-orders).
  const fingerprint = JSON.stringify([order.fingerprint, kind, fields.extra]);
  const existing = store.wechat.get(order.outTradeNo);
  if (existing) {
    settleWechatExpiry(existing, now);
    if (existing.state === 'SUCCESS') return { status: 400, body: errorBody('ORDERPAID', '该订单已支付') };
    if (existing.state === 'CLOSED') return { status: 400, body: errorBody('ORDER_CLOSED', '订单已关闭') };
    if (existing.fingerprint !== fingerprint) return { status: 400, body: errorBody('INVALID_REQUEST', '201 商户订单号重复') };
    if (kind !== 'h5' && now.getTime() - (existing.prepayIssuedAt?.getTime() ?? 0) > PREPAY_TTL_MS) {
      existing.prepayId = newPrepayId(now);
      existing.prepayIssuedAt = now;
      store.prepay.set(existing.prepayId, existing.outTradeNo);
    }
    return answerOf(ctx, existing, kind, now);
  }
  const trade: WechatTrade = {
    ...order,
    fingerprint,
    tradeType: TRADE_TYPE[kind],
    createdAt: now,
    state: 'NOTPAY',
    notifications: [],
    // No QR code on these channels: the code_url fields name the prepay_id for the sandbox's views.
    codeUrl: '',
    codeUrlIssuedAt: now,
    payerOpenid: fields.payerOpenid,
  };
  if (kind !== 'h5') {
    trade.prepayId = newPrepayId(now);
    trade.prepayIssuedAt = now;
    trade.codeUrl = `prepay_id=${trade.prepayId}`;
    store.prepay.set(trade.prepayId, trade.outTradeNo);
  }
  store.wechat.set(order.outTradeNo, trade);
  const answer = answerOf(ctx, trade, kind, now);
  if (kind === 'h5') trade.codeUrl = trade.h5Url!;
  ctx.log(`[wechat] ${kind} order ${order.outTradeNo} ${order.totalFen} fen`);
  return answer;
}
