// What each provider's bill of a Beijing day holds, taken from the trades and refunds the sandbox
// handled (docs/reconciliation.md): a payment on the day it succeeded, a WeChat Pay refund on the day
// it was accepted (with the state it has now: the sandbox cuts its bill when asked), an Alipay
// refund on the day it paid out. Today is served too, unlike at the providers, so that a day of
// sandbox payments can be reconciled at once.
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import type { Provider } from '../faults';

export interface LedgerRow {
  kind: 'payment' | 'refund';
  at: Date;
  outTradeNo: string;
  outRefundNo?: string;
  providerTradeNo: string;
  refundId?: string;
  amountFen: number;
  refundStatus?: string;
  subject: string;
  createdAt: Date;
  buyer: string;
}

/** `YYYY-MM-DD` of an instant in Beijing time. */
export function beijingDay(date: Date): string {
  return beijingDateTime(date).slice(0, 10);
}

export function ledgerRows(ctx: SandboxContext, provider: Provider, day: string): LedgerRow[] {
  const rows = provider === 'wechat' ? wechatRows(ctx) : alipayRows(ctx);
  const out: LedgerRow[] = [];
  for (const row of rows) {
    if (beijingDay(row.at) !== day) continue;
    const tweak = ctx.billTweaks.find(provider, row.kind, row.kind === 'payment' ? row.outTradeNo : row.outRefundNo!);
    if (tweak?.omit) continue;
    out.push(tweak?.amountFen !== undefined ? { ...row, amountFen: tweak.amountFen } : row);
  }
  return out.sort((a, b) => a.at.getTime() - b.at.getTime());
}

function wechatRows(ctx: SandboxContext): LedgerRow[] {
  const rows: LedgerRow[] = [];
  for (const t of ctx.store.wechat.values()) {
    if (!t.transactionId || !t.successTime) continue;
    rows.push({
      kind: 'payment',
      at: t.successTime,
      outTradeNo: t.outTradeNo,
      providerTradeNo: t.transactionId,
      amountFen: t.totalFen,
      subject: t.description,
      createdAt: t.createdAt,
      buyer: t.payerOpenid ?? '',
    });
  }
  for (const r of ctx.store.wechatRefunds.values()) {
    const trade = ctx.store.wechat.get(r.outTradeNo);
    if (!trade?.transactionId) continue;
    rows.push({
      kind: 'refund',
      at: r.createdAt,
      outTradeNo: r.outTradeNo,
      outRefundNo: r.outRefundNo,
      refundId: r.refundId,
      providerTradeNo: trade.transactionId,
      amountFen: r.refundFen,
      refundStatus: r.status,
      subject: trade.description,
      createdAt: trade.createdAt,
      buyer: trade.payerOpenid ?? '',
    });
  }
  return rows;
}

function alipayRows(ctx: SandboxContext): LedgerRow[] {
  const rows: LedgerRow[] = [];
  for (const o of ctx.store.alipay.values()) {
    const trade = o.trade;
    if (!trade?.gmtPayment) continue;
    rows.push({
      kind: 'payment',
      at: trade.gmtPayment,
      outTradeNo: o.outTradeNo,
      providerTradeNo: trade.tradeNo,
      amountFen: o.totalFen,
      subject: o.subject,
      createdAt: trade.gmtCreate,
      buyer: trade.buyerLogonId,
    });
  }
  for (const r of ctx.store.alipayRefunds.values()) {
    const order = ctx.store.alipay.get(r.outTradeNo);
    if (r.status !== 'success' || !r.gmtRefundPay || !order?.trade) continue;
    rows.push({
      kind: 'refund',
      at: r.gmtRefundPay,
      outTradeNo: r.outTradeNo,
      outRefundNo: r.outRequestNo,
      providerTradeNo: order.trade.tradeNo,
      amountFen: r.refundFen,
      refundStatus: 'REFUND_SUCCESS',
      subject: order.subject,
      createdAt: order.trade.gmtCreate,
      buyer: order.trade.buyerLogonId,
    });
  }
  return rows;
}
