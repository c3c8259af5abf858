// `/gateway.do` (docs/alipay.md#common-parameters): merges URL query and form body (alipay-sdk puts the
// protocol parameters in the query and biz_content in the form, docs/alipay.md#sdk), checks them, applies a
// pending fault and dispatches by `method`. Every answer is HTTP 200 except the error-500 fault.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from '../context';
import type { FaultMode, FaultOp } from '../faults';
import { isPlainObject } from '../http';
import { applyAlipayBill } from '../bills/alipay-bill';
import { precreate } from './precreate';
import { queryRefund, refundTrade } from './refund';
import { failure, replyAlipay, responseKey, type AlipayNode } from './reply';
import { checkRequest } from './request-check';
import { closeTrade, queryTrade } from './trade';
import { openClientRequest, PAGE_METHODS } from './client-pay';
import { send } from '../http';
import { AGREEMENT_PAGE_METHOD, deduct, queryAgreement, unsignByMerchant } from './agreement';

/** `fault` is passed to operations whose outcome it changes (the refund faults). */
/** `baseUrl`: where this request reached the sandbox, for the download URLs it hands out. */
type Handler = (
  ctx: SandboxContext,
  params: Record<string, string>,
  biz: Record<string, unknown>,
  now: Date,
  fault: FaultMode | undefined,
  baseUrl: string,
) => AlipayNode;

const METHODS: Record<string, { op: Exclude<FaultOp, '*'>; run: Handler }> = {
  'alipay.trade.precreate': { op: 'precreate', run: (ctx, params, biz, now) => precreate(ctx.store, params, biz, now) },
  'alipay.trade.query': { op: 'query', run: (ctx, _params, biz, now) => queryTrade(ctx.store, biz, now) },
  'alipay.trade.close': { op: 'close', run: (ctx, _params, biz, now) => closeTrade(ctx.store, biz, now) },
  'alipay.trade.refund': { op: 'refund', run: (ctx, _params, biz, now, fault) => refundTrade(ctx, biz, now, fault) },
  'alipay.trade.fastpay.refund.query': { op: 'refund-query', run: (ctx, _params, biz) => queryRefund(ctx, biz) },
  'alipay.trade.pay': { op: 'deduct', run: (ctx, params, biz, now, fault) => deduct(ctx, params, biz, now, fault) },
  'alipay.user.agreement.query': { op: 'contract-query', run: (ctx, _params, biz) => queryAgreement(ctx, biz) },
  'alipay.user.agreement.unsign': { op: 'terminate', run: (ctx, params, biz) => unsignByMerchant(ctx, params, biz) },
  'alipay.data.dataservice.bill.downloadurl.query': {
    op: 'bill',
    run: (ctx, _params, biz, now, fault, baseUrl) => applyAlipayBill(ctx, biz, baseUrl, now, fault),
  },
};

function mergedParams(req: IncomingMessage, raw: Buffer): Record<string, string> {
  const params: Record<string, string> = {};
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  for (const [k, v] of url.searchParams) params[k] = v;
  if ((req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) params[k] = v;
  }
  return params;
}

function parseBiz(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : null;
  } catch {
    return null;
  }
}

export function handleAlipayGateway(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  const now = new Date();
  const alipay = ctx.keys.alipay;
  const params = mergedParams(req, raw);
  if (PAGE_METHODS.includes(params.method)) return openCashier(ctx, res, params, now);
  if (params.method === AGREEMENT_PAGE_METHOD) {
    // The member's browser or Alipay app opens the agreement page: the sandbox's signing page.
    const pageUrl = `${ctx.url}/gateway.do?${new URLSearchParams(params).toString()}`;
    return send(res, 303, '', { Location: `/sandbox/contracts/sign?qr=${encodeURIComponent(pageUrl)}` });
  }
  const method = METHODS[params.method] ? params.method : undefined;
  const key = responseKey(method);
  const rejected = checkRequest(params, alipay, Object.keys(METHODS), now);
  if (rejected || !method) return replyAlipay(res, alipay, key, rejected ?? failure('40002', 'isv.invalid-method', '不存在的方法名'));
  const biz = parseBiz(params.biz_content);
  if (!biz) return replyAlipay(res, alipay, key, failure('40004', 'ACQ.INVALID_PARAMETER', 'biz_content 缺失或不是JSON对象'));
  const { op, run } = METHODS[method];
  const fault = ctx.faults.take('alipay', op);
  if (fault) ctx.log(`[alipay] fault ${fault} on ${op}`);
  if (fault === 'hang') return; // left open until close(): a timeout for the client
  if (fault === 'error-500') {
    return replyAlipay(res, alipay, key, failure('20000', 'isp.unknow-error', '服务暂不可用'), undefined, 500);
  }
  // Alipay documents no code for rate limiting: answered as "service unavailable".
  if (fault === 'rate-limit') return replyAlipay(res, alipay, key, failure('20000', 'isp.unknow-error', '调用频率超限'));
  if (fault === 'garbage') return replyAlipay(res, alipay, key, {}, fault);
  if (fault === 'claims-paid' && op === 'close')
    return replyAlipay(res, alipay, key, failure('40004', 'ACQ.TRADE_HAS_SUCCESS', '交易已被支付'));
  const node = run(ctx, params, biz, now, fault, `http://${req.headers.host ?? '127.0.0.1'}`);
  ctx.log(
    `[alipay] ${method} ${String(biz.out_trade_no ?? biz.trade_no ?? '')} -> ${node.code}${node.sub_code ? ` ${node.sub_code}` : ''}`,
  );
  if (fault === 'system-error-after-commit') {
    return replyAlipay(res, alipay, key, failure('40004', 'ACQ.SYSTEM_ERROR', '系统错误'));
  }
  replyAlipay(res, alipay, key, node, fault);
}

/**
 * A browser arriving with a WAP or page payment (pageExecute's URL or form): Alipay verifies the
 * signed request and shows its cashier, where the trade now exists. Here: the sandbox's pay page.
 * A refused request is an HTML error page (Alipay's says which check failed, too).
 */
function openCashier(ctx: SandboxContext, res: ServerResponse, params: Record<string, string>, now: Date): void {
  const order = openClientRequest(ctx, params, PAGE_METHODS, now);
  if (typeof order === 'string') {
    const text = order.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return send(res, 400, `<!doctype html><html><body><h1>支付宝 (sandbox): request refused</h1><p>${text}</p></body></html>`, {
      'Content-Type': 'text/html; charset=utf-8',
    });
  }
  send(res, 303, '', { Location: `/sandbox/pay?qr=${encodeURIComponent(order.qrCode)}` });
}
