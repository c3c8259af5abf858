// `/sandbox/*`: the control endpoints for people and tests (see sandbox/README.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxContext } from '../context';
import { parseFault } from '../faults';
import { parseControlBody, send, sendJson } from '../http';
import { renderMissingPage, renderPayPage } from '../page';
import { expire, locate, payAndNotify, scan, type ControlAnswer } from './pay';
import { handleBillControl } from './bills';
import { settleRefund, showRefund } from './refunds';
import { alipayView, wechatView, type TradeView } from './trade-view';
import { issueOpenid, renderMerchantReturn } from './phone-pages';
import { openForPage } from './client-pay';
import { handleContractControl } from './contracts';

function viewOf(ctx: SandboxContext, provider: 'wechat' | 'alipay', outTradeNo: string): TradeView {
  const now = new Date();
  return provider === 'wechat' ? wechatView(ctx.store.wechat.get(outTradeNo)!, now) : alipayView(ctx.store.alipay.get(outTradeNo)!, now);
}

function showPage(ctx: SandboxContext, res: ServerResponse, url: URL): void {
  const qr = url.searchParams.get('qr') ?? '';
  const ref = ctx.store.findQr(qr);
  const html = { 'Content-Type': 'text/html; charset=utf-8' };
  if (!ref) return send(res, 404, renderMissingPage(qr), html);
  send(res, 200, renderPayPage(viewOf(ctx, ref.provider, ref.outTradeNo), qr, url.searchParams.get('message') ?? undefined), html);
}

/** The page posts a form: answer with a redirect back to it instead of JSON. */
function redirectToPage(res: ServerResponse, qr: string, answer: ControlAnswer): void {
  const message =
    answer.status === 200
      ? `Paid. Notification ${answer.body.delivered ? 'acknowledged' : 'not acknowledged yet'}.`
      : String(answer.body.error);
  const location = `/sandbox/pay?qr=${encodeURIComponent(qr)}&message=${encodeURIComponent(message)}`;
  send(res, 303, '', { Location: location });
}

function showTrade(ctx: SandboxContext, res: ServerResponse, outTradeNo: string, url: URL): void {
  const provider = url.searchParams.get('provider') ?? undefined;
  const ref = locate(ctx, { out_trade_no: outTradeNo, provider });
  if ('status' in ref) return sendJson(res, ref.status, ref.body);
  sendJson(res, 200, viewOf(ctx, ref.provider, ref.outTradeNo));
}

export async function handleControl(ctx: SandboxContext, req: IncomingMessage, res: ServerResponse, raw: Buffer, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname.replace(/\/+$/, '');
  const body = method === 'POST' ? parseControlBody(req, raw) : {};
  if (!body) return sendJson(res, 400, { error: 'body must be a JSON object' });
  if (path === '/sandbox/health' && method === 'GET') return sendJson(res, 200, { status: 'ok' });
  if (path === '/sandbox/pay' && method === 'GET') {
    // A pay-and-sign code_url or an agreement page opens the signing page instead.
    const qr = url.searchParams.get('qr') ?? '';
    if (ctx.store.findQr(qr)?.contract || qr.includes('/gateway.do?')) {
      return send(res, 303, '', { Location: `/sandbox/contracts/sign?qr=${encodeURIComponent(qr)}` });
    }
    return showPage(ctx, res, url);
  }
  if (path.startsWith('/sandbox/contracts/')) return handleContractControl(ctx, req, res, path, url, body);
  if (path === '/sandbox/pay' && method === 'POST') {
    const answer = await payAndNotify(ctx, body);
    const fromForm = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
    if (fromForm && typeof body.qr === 'string') {
      // A WAP or page payment's browser goes back to the merchant, signed (docs/alipay.md#return-url).
      const back = answer.status === 200 && typeof answer.body.return_url === 'string' ? answer.body.return_url : null;
      if (back) return send(res, 303, '', { Location: back });
      return redirectToPage(res, body.qr, answer);
    }
    return sendJson(res, answer.status, answer.body);
  }
  if ((path === '/sandbox/scan' || path === '/sandbox/expire') && method === 'POST') {
    const answer = path === '/sandbox/scan' ? scan(ctx, body) : expire(ctx, body);
    return sendJson(res, answer.status, answer.body);
  }
  if (path === '/sandbox/open' && method === 'POST') {
    const answer = openForPage(ctx, body);
    return sendJson(res, answer.status, answer.body);
  }
  if (path === '/sandbox/wechat/openid' && method === 'POST') {
    const answer = issueOpenid(ctx, body);
    return sendJson(res, answer.status, answer.body);
  }
  if (path === '/sandbox/wechat/h5' && method === 'GET') {
    // The h5_url itself: the phone browser lands on the sandbox's pay page for that trade.
    const h5 = new URL(`${ctx.url}/sandbox/wechat/h5`);
    for (const name of ['prepay_id', 'package']) h5.searchParams.set(name, url.searchParams.get(name) ?? '');
    return send(res, 303, '', { Location: `/sandbox/pay?qr=${encodeURIComponent(h5.toString())}` });
  }
  if (path === '/sandbox/merchant-return' && method === 'GET') {
    return send(res, 200, renderMerchantReturn(), { 'Content-Type': 'text/html; charset=utf-8' });
  }
  if (path === '/sandbox/faults') {
    if (method === 'GET') return sendJson(res, 200, { faults: ctx.faults.list() });
    if (method === 'DELETE') {
      ctx.faults.clear();
      return sendJson(res, 200, { faults: [] });
    }
    if (method === 'POST') {
      const fault = parseFault(body);
      if (typeof fault === 'string') return sendJson(res, 400, { error: fault });
      ctx.faults.add(fault);
      return sendJson(res, 200, { faults: ctx.faults.list() });
    }
  }
  if (path.startsWith('/sandbox/bills/')) return handleBillControl(ctx, res, method, path, body);
  if (path === '/sandbox/refunds/settle' && method === 'POST') {
    const answer = await settleRefund(ctx, body);
    return sendJson(res, answer.status, answer.body);
  }
  const refund = /^\/sandbox\/refunds\/([^/]+)$/.exec(path);
  if (refund && method === 'GET') {
    const answer = showRefund(ctx, decodeURIComponent(refund[1]), url);
    return sendJson(res, answer.status, answer.body);
  }
  const trade = /^\/sandbox\/trades\/([^/]+)$/.exec(path);
  if (trade && method === 'GET') return showTrade(ctx, res, decodeURIComponent(trade[1]), url);
  sendJson(res, 404, { error: `no control endpoint ${method} ${url.pathname}` });
}
