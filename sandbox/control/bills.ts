// `/sandbox/bills/…`: row-level bill faults, and a look at what a day's bill holds (JSON).
import type { ServerResponse } from 'node:http';
import { ledgerRows } from '../bills/ledger';
import { parseTweak } from '../bills/tweaks';
import type { SandboxContext } from '../context';
import { sendJson } from '../http';

export function handleBillControl(
  ctx: SandboxContext,
  res: ServerResponse,
  method: string,
  path: string,
  body: Record<string, unknown>,
): void {
  if (path === '/sandbox/bills/tweaks') {
    if (method === 'GET') return sendJson(res, 200, { tweaks: ctx.billTweaks.list() });
    if (method === 'DELETE') {
      ctx.billTweaks.clear();
      return sendJson(res, 200, { tweaks: [] });
    }
    if (method === 'POST') {
      const tweak = parseTweak(body);
      if (typeof tweak === 'string') return sendJson(res, 400, { error: tweak });
      ctx.billTweaks.add(tweak);
      return sendJson(res, 200, { tweaks: ctx.billTweaks.list() });
    }
  }
  const day = /^\/sandbox\/bills\/(wechat|alipay)\/(\d{4}-\d{2}-\d{2})$/.exec(path);
  if (day && method === 'GET') {
    const rows = ledgerRows(ctx, day[1] as 'wechat' | 'alipay', day[2]).map((r) => ({
      kind: r.kind,
      at: r.at.toISOString(),
      out_trade_no: r.outTradeNo,
      out_refund_no: r.outRefundNo ?? null,
      amount_fen: r.amountFen,
      refund_status: r.refundStatus ?? null,
    }));
    return sendJson(res, 200, { provider: day[1], date: day[2], rows });
  }
  sendJson(res, 404, { error: `no control endpoint ${method} ${path}` });
}
