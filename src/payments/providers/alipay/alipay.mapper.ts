import { beijingDateTimeOf } from '../../../common/beijing-day';
import { fenToYuan, yuanToFen } from '../../../common/money';
import type { PaymentEvent, RefundEvent, RefundRequest } from '../../payment-provider';
import type { AlipayAnswer } from './alipay.types';

export { fenToYuan };

/** trade_status → our neutral outcome, in one place (docs/alipay.md#query). */
const OUTCOMES: Record<string, PaymentEvent['outcome']> = {
  TRADE_SUCCESS: 'paid',
  TRADE_FINISHED: 'paid',
  TRADE_CLOSED: 'closed',
  WAIT_BUYER_PAY: 'pending',
};

/** A query answer node or a notification's form fields, as a neutral event. */
export function toPaymentEvent(fields: Record<string, unknown>, paymentNo: string, eventId?: string): PaymentEvent {
  const tradeState = String(fields.trade_status ?? 'UNKNOWN');
  const outcome = OUTCOMES[tradeState] ?? 'pending';
  const paidAtText = (fields.gmt_payment ?? fields.send_pay_date) as string | undefined;
  return {
    provider: 'alipay',
    paymentNo,
    outcome,
    tradeState,
    providerTradeNo: typeof fields.trade_no === 'string' && fields.trade_no ? fields.trade_no : null,
    amountFen: typeof fields.total_amount === 'string' ? yuanToFen(fields.total_amount) : null,
    paidAt: outcome === 'paid' && paidAtText ? beijingToDate(paidAtText) : null,
    payload: fields,
    eventId,
  };
}

/**
 * A refund's state as a neutral event, from the answer of a refund or a refund query (whose reading
 * of refund_status and fund_change is the provider's, docs/refunds.md).
 */
export function toRefundEvent(
  request: Pick<RefundRequest, 'refundNo' | 'paymentNo'>,
  outcome: RefundEvent['outcome'],
  state: string,
  answer: AlipayAnswer,
  amountFen: number | null,
  refundedAt?: unknown,
): RefundEvent {
  return {
    provider: 'alipay',
    refundNo: request.refundNo,
    paymentNo: request.paymentNo,
    outcome,
    providerState: state,
    // Alipay gives a refund no id of its own: the trade number identifies it with out_request_no.
    providerRefundId: typeof answer.trade_no === 'string' ? answer.trade_no : null,
    amountFen,
    succeededAt: outcome === 'success' ? ((typeof refundedAt === 'string' ? beijingToDate(refundedAt) : null) ?? new Date()) : null,
    payload: answer,
  };
}

/** Alipay writes times as `yyyy-MM-dd HH:mm:ss` in Beijing time (docs/alipay.md#times). */
export function beijingToDate(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4] - 8, +m[5], +m[6]));
}

export function dateToBeijing(date: Date): string {
  return beijingDateTimeOf(date).replace('T', ' ');
}
