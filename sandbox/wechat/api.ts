// WeChat Pay API v3 endpoints used by memberpay (docs/wechat-pay.md, docs/refunds.md): Native order,
// query by out_trade_no (and by transaction_id), close, refund and refund query. Every request is authenticated first, then a
// pending fault (if any) decides whether the operation runs and how the answer is spoiled.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from '../context';
import type { FaultMode } from '../faults';
import { isPlainObject } from '../http';
import { settleWechatExpiry, type PapayOrder } from '../store';
import { verifyAuthorization } from './authorization';
import { paramError, validateNativeOrder, type WechatError } from './native-order';
import { errorBody, replyWechat, type WechatAnswer } from './reply';
import { applyWechatBill, downloadWechatBill } from '../bills/wechat-bill';
import { send } from '../http';
import { createRefund, queryRefund } from './refund';
import { newCodeUrl, transactionObject } from './transaction';
import { rfc3339Beijing } from '../clock';
import { phoneOrder, type PhoneKind } from './phone-orders';
import { preDeductionNotice } from './papay';

/** A code_url is valid for two hours (docs/wechat-pay.md#native-orders); a resubmission after that gets a fresh one. */
export const CODE_URL_TTL_MS = 2 * 3600_000;

type Op = 'native' | PhoneKind | 'query' | 'close' | 'refund' | 'refund-query' | 'bill' | 'notice';
/** `fault` is passed to operations whose outcome it changes (the refund faults). */
interface Route {
  op: Op;
  run: (fault?: FaultMode) => WechatAnswer;
}

const fromError = (e: WechatError): WechatAnswer => ({ status: e.status, body: errorBody(e.code, e.message, e.detail) });
const notFound: WechatAnswer = { status: 404, body: errorBody('ORDER_NOT_EXIST', '订单不存在') };

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function native(ctx: SandboxContext, raw: Buffer, now: Date): WechatAnswer {
  const { keys, store } = ctx;
  const checked = validateNativeOrder(parseJson(raw), keys.wechat, now);
  if (!checked.ok) return fromError(checked.error);
  const order = checked.order;
  const existing = store.wechat.get(order.outTradeNo);
  if (existing) {
    settleWechatExpiry(existing, now);
    // The status of ORDERPAID is not documented (400 or 403, docs/wechat-pay.md#errors); 400 chosen.
    if (existing.state === 'SUCCESS') return { status: 400, body: errorBody('ORDERPAID', '该订单已支付') };
    if (existing.state === 'CLOSED') return { status: 400, body: errorBody('ORDER_CLOSED', '订单已关闭') };
    if (existing.fingerprint !== order.fingerprint) {
      return { status: 400, body: errorBody('INVALID_REQUEST', '201 商户订单号重复') };
    }
    if (now.getTime() - existing.codeUrlIssuedAt.getTime() > CODE_URL_TTL_MS) {
      existing.codeUrl = newCodeUrl();
      existing.codeUrlIssuedAt = now;
      store.rememberQr(existing.codeUrl, { provider: 'wechat', outTradeNo: existing.outTradeNo, issuedAt: now });
    }
    return { status: 200, body: { code_url: existing.codeUrl } };
  }
  const codeUrl = newCodeUrl();
  store.wechat.set(order.outTradeNo, {
    ...order,
    createdAt: now,
    codeUrl,
    codeUrlIssuedAt: now,
    state: 'NOTPAY',
    notifications: [],
  });
  store.rememberQr(codeUrl, { provider: 'wechat', outTradeNo: order.outTradeNo, issuedAt: now });
  ctx.log(`[wechat] native order ${order.outTradeNo} ${order.totalFen} fen`);
  return { status: 200, body: { code_url: codeUrl } };
}

function query(ctx: SandboxContext, url: URL, by: 'out-trade-no' | 'id', id: string, now: Date): WechatAnswer {
  const mchid = url.searchParams.get('mchid');
  if (!mchid) return fromError(paramError('mchid', mchid, '为必填参数', 'query'));
  if (mchid !== ctx.keys.wechat.mchId) return { status: 400, body: errorBody('MCH_NOT_EXISTS', '商户号不存在') };
  const trade = by === 'id' ? ctx.store.findWechatByTransactionId(id) : ctx.store.wechat.get(id);
  if (!trade) {
    const papay = by === 'out-trade-no' ? payAndSignOrder(ctx, id) : undefined;
    return papay ? { status: 200, body: payAndSignTransaction(ctx, papay) } : notFound;
  }
  return { status: 200, body: transactionObject(settleWechatExpiry(trade, now)) };
}

/**
 * A pay-and-sign order (v2 `/pay/contractorder`) is an order of the same merchant: the v3 query and close
 * by out_trade_no reach it too, as the v3 refund does (docs/contracts.md#calls, unconfirmed).
 */
function payAndSignOrder(ctx: SandboxContext, outTradeNo: string): PapayOrder | undefined {
  const order = ctx.store.papayOrders.get(outTradeNo);
  return order?.kind === 'contractorder' ? order : undefined;
}

function payAndSignTransaction(ctx: SandboxContext, o: PapayOrder): Record<string, unknown> {
  const state = o.state === 'SUCCESS' ? 'SUCCESS' : o.state === 'CLOSED' ? 'CLOSED' : 'NOTPAY';
  const base = {
    appid: o.appid,
    mchid: ctx.keys.wechat.mchId,
    out_trade_no: o.outTradeNo,
    trade_type: o.tradeType,
    trade_state: state,
    trade_state_desc: state === 'SUCCESS' ? '支付成功' : state === 'CLOSED' ? '已关闭' : '未支付',
  };
  if (state !== 'SUCCESS') return { ...base, amount: { total: o.totalFen, currency: 'CNY', payer_currency: 'CNY' } };
  return {
    ...base,
    transaction_id: o.transactionId,
    bank_type: 'OTHERS',
    success_time: rfc3339Beijing(o.timeEnd ?? new Date()),
    payer: { openid: o.openid },
    amount: { total: o.totalFen, payer_total: o.totalFen, currency: 'CNY', payer_currency: 'CNY' },
  };
}

function close(ctx: SandboxContext, raw: Buffer, outTradeNo: string, now: Date): WechatAnswer {
  const body = parseJson(raw);
  const mchid = isPlainObject(body) ? body.mchid : undefined;
  if (typeof mchid !== 'string' || mchid === '') return fromError(paramError('mchid', mchid, '为必填字符串'));
  if (mchid !== ctx.keys.wechat.mchId) return { status: 400, body: errorBody('MCH_NOT_EXISTS', '商户号不存在') };
  const trade = ctx.store.wechat.get(outTradeNo);
  if (!trade) {
    const papay = payAndSignOrder(ctx, outTradeNo);
    if (!papay) return notFound;
    if (papay.state === 'SUCCESS') return { status: 400, body: errorBody('ORDERPAID', '订单已支付') };
    if (papay.state === 'NOTPAY') {
      papay.state = 'CLOSED';
      ctx.log(`[wechat] closed pay-and-sign order ${outTradeNo}`);
    }
    return { status: 204 };
  }
  settleWechatExpiry(trade, now);
  if (trade.state === 'SUCCESS') return { status: 400, body: errorBody('ORDERPAID', '订单已支付') };
  // Closing a closed order is not documented (docs/wechat-pay.md#closing): answered 204, i.e. close is idempotent.
  if (trade.state === 'NOTPAY') {
    trade.state = 'CLOSED';
    trade.closedBy = 'close';
    ctx.log(`[wechat] closed ${outTradeNo}`);
  }
  return { status: 204 };
}

function route(ctx: SandboxContext, method: string, url: URL, raw: Buffer, now: Date, baseUrl: string): Route | null {
  // ['v3', 'pay', 'transactions', 'out-trade-no', '{id}', 'close'?]
  const parts = url.pathname.split('/').slice(1);
  const prefix = parts.slice(0, 4).join('/');
  let id: string;
  try {
    id = decodeURIComponent(parts[4] ?? '');
  } catch {
    return null;
  }
  if (method === 'POST' && url.pathname === '/v3/pay/transactions/native') {
    return { op: 'native', run: () => native(ctx, raw, now) };
  }
  const phone = /^\/v3\/pay\/transactions\/(app|jsapi|h5)$/.exec(url.pathname);
  if (method === 'POST' && phone) {
    const kind = phone[1] as PhoneKind;
    return { op: kind, run: () => phoneOrder(ctx, kind, parseJson(raw), now) };
  }
  if (parts.length === 5 && method === 'GET' && prefix === 'v3/pay/transactions/out-trade-no') {
    return { op: 'query', run: () => query(ctx, url, 'out-trade-no', id, now) };
  }
  if (parts.length === 5 && method === 'GET' && prefix === 'v3/pay/transactions/id') {
    return { op: 'query', run: () => query(ctx, url, 'id', id, now) };
  }
  if (parts.length === 6 && method === 'POST' && prefix === 'v3/pay/transactions/out-trade-no' && parts[5] === 'close') {
    return { op: 'close', run: () => close(ctx, raw, id, now) };
  }
  const notice = /^\/v3\/papay\/contracts\/([^/]+)\/notify$/.exec(url.pathname);
  if (method === 'POST' && notice) {
    return { op: 'notice', run: () => preDeductionNotice(ctx, decodeURIComponent(notice[1]), parseJson(raw), now) };
  }
  if (method === 'GET' && url.pathname === '/v3/bill/tradebill') {
    return { op: 'bill', run: (fault) => applyWechatBill(ctx, url, baseUrl, now, fault) };
  }
  if (method === 'POST' && url.pathname === '/v3/refund/domestic/refunds') {
    return { op: 'refund', run: (fault) => createRefund(ctx, parseJson(raw), now, fault) };
  }
  if (parts.length === 5 && method === 'GET' && prefix === 'v3/refund/domestic/refunds') {
    return { op: 'refund-query', run: () => queryRefund(ctx, id) };
  }
  return null;
}

export function handleWechatApi(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  const now = new Date();
  const rawUrl = req.url ?? '/';
  const method = (req.method ?? 'GET').toUpperCase();
  const wechat = ctx.keys.wechat;
  const auth = verifyAuthorization(req.headers.authorization, method, rawUrl, raw, wechat, now);
  if (!auth.ok) return replyWechat(req, res, wechat, { status: 401, body: errorBody('SIGN_ERROR', auth.message) });
  const url = new URL(rawUrl, 'http://sandbox.invalid');
  if (method === 'GET' && url.pathname === '/v3/billdownload/file') {
    // The file itself: its answer carries no Wechatpay-* signature (docs/reconciliation.md).
    const file = downloadWechatBill(ctx, url, now);
    return send(res, file.status, file.body, {
      'Content-Type': typeof file.body === 'string' ? 'application/json' : 'application/octet-stream',
    });
  }
  const matched = route(ctx, method, url, raw, now, `http://${req.headers.host ?? '127.0.0.1'}`);
  if (!matched) return replyWechat(req, res, wechat, { status: 404, body: errorBody('NOT_FOUND', '请求的资源不存在') });
  const fault: FaultMode | undefined = ctx.faults.take('wechat', matched.op);
  if (fault) ctx.log(`[wechat] fault ${fault} on ${matched.op}`);
  if (fault === 'hang') return; // left open until close(): a timeout for the client
  if (fault === 'error-500') return replyWechat(req, res, wechat, { status: 500, body: errorBody('SYSTEM_ERROR', '系统错误') });
  if (fault === 'rate-limit') return replyWechat(req, res, wechat, { status: 429, body: errorBody('FREQUENCY_LIMITED', '频率超限') });
  if (fault === 'garbage') return replyWechat(req, res, wechat, { status: 200 }, fault);
  // A close answered "already paid" for a trade that is not: the answer a client must not trust alone.
  if (fault === 'claims-paid' && matched.op === 'close')
    return replyWechat(req, res, wechat, { status: 400, body: errorBody('ORDERPAID', '订单已支付') });
  const answer = matched.run(fault);
  if (fault === 'system-error-after-commit') {
    return replyWechat(req, res, wechat, { status: 500, body: errorBody('SYSTEM_ERROR', '系统错误') });
  }
  // Remaining faults (bad-signature, unsigned, probe, …) spoil the answer of a committed operation.
  replyWechat(req, res, wechat, answer, fault);
}
