import { beijingDateTimeOf } from '../../../common/beijing-day';
import type { PaymentEvent, RefundEvent } from '../../payment-provider';
import type { WechatRefund, WechatTransaction } from './wechat-pay.types';

/** trade_state → our neutral outcome, in one place (docs/wechat-pay.md#querying). */
const OUTCOMES: Record<string, PaymentEvent['outcome']> = {
  SUCCESS: 'paid',
  REFUND: 'paid',
  CLOSED: 'closed',
  REVOKED: 'closed',
  PAYERROR: 'closed',
  NOTPAY: 'pending',
  USERPAYING: 'pending',
};

export function toPaymentEvent(tx: WechatTransaction, eventId?: string): PaymentEvent {
  const tradeState = String(tx.trade_state ?? 'UNKNOWN');
  const outcome = OUTCOMES[tradeState] ?? 'pending';
  return {
    provider: 'wechat',
    paymentNo: String(tx.out_trade_no ?? ''),
    outcome,
    tradeState,
    providerTradeNo: tx.transaction_id ? String(tx.transaction_id) : null,
    amountFen: Number.isSafeInteger(tx.amount?.total) ? tx.amount!.total! : null,
    paidAt: outcome === 'paid' && tx.success_time ? parseTime(tx.success_time) : null,
    payload: tx as Record<string, unknown>,
    eventId,
  };
}

function parseTime(value: string): Date | null {
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t);
}

/** RFC 3339 in Beijing time, as time_expire wants it: 2026-01-01T08:00:00+08:00 (docs/wechat-pay.md#times). */
export function beijingRfc3339(date: Date): string {
  return `${beijingDateTimeOf(date)}+08:00`;
}

/** Refund status → our neutral outcome, in one place (docs/refunds.md). */
const REFUND_OUTCOMES: Record<string, RefundEvent['outcome']> = {
  PROCESSING: 'processing',
  SUCCESS: 'success',
  CLOSED: 'closed',
  ABNORMAL: 'abnormal',
};

export function toRefundEvent(refund: WechatRefund, eventId?: string): RefundEvent {
  const state = String(refund.status ?? refund.refund_status ?? 'UNKNOWN');
  const outcome = REFUND_OUTCOMES[state] ?? 'processing';
  return {
    provider: 'wechat',
    refundNo: String(refund.out_refund_no ?? ''),
    paymentNo: typeof refund.out_trade_no === 'string' ? refund.out_trade_no : null,
    outcome,
    providerState: state,
    providerRefundId: typeof refund.refund_id === 'string' ? refund.refund_id : null,
    amountFen: Number.isSafeInteger(refund.amount?.refund) ? refund.amount!.refund! : null,
    succeededAt: outcome === 'success' && refund.success_time ? parseTime(refund.success_time) : null,
    payload: refund as Record<string, unknown>,
    eventId,
  };
}
