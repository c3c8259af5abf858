import { ApiProperty } from '@nestjs/swagger';
import { PROVIDER_NAMES } from '../payments/provider-name';
import type { Refund } from './refund.entity';
import { REFUND_KINDS, REFUND_MEMBERSHIP_EFFECTS, REFUND_STATUSES } from './refund-status';

/** A refund as support sees it; amounts in fen. */
export class RefundView {
  @ApiProperty({
    example: 'RF20261129190000ABCDEFGHJKLM',
    description: 'the number the provider knows it by (out_refund_no / out_request_no)',
  })
  refund_no: string;
  @ApiProperty({ example: 'MO20261125183257Y269907TPMWN' }) order_no: string;
  @ApiProperty({ description: 'the paid attempt refunded (its out_trade_no)' }) payment_no: string;
  @ApiProperty({ enum: PROVIDER_NAMES }) payment_method: string;
  @ApiProperty({ description: 'fen', example: 990 }) amount: number;
  @ApiProperty({
    enum: REFUND_STATUSES,
    description: 'processing → success, or failed / closed (nothing returned); abnormal is stuck at the provider and not final',
  })
  status: string;
  @ApiProperty({ enum: REFUND_KINDS }) kind: string;
  @ApiProperty({ example: 'customer asked' }) reason: string;
  @ApiProperty({
    enum: REFUND_MEMBERSHIP_EFFECTS,
    description: 'a support refund: withdraw took back the days its fen bought; keep left them (a concession by requested_by)',
  })
  membership: string;
  @ApiProperty({ description: "the admin's user id, or `system`" }) requested_by: string;
  @ApiProperty({ type: String, nullable: true, description: "the provider's words when it refused or closed it" }) failure_reason:
    string | null;
  @ApiProperty({ type: String, nullable: true }) provider_refund_id: string | null;
  @ApiProperty({ type: String, nullable: true }) provider_state: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) succeeded_at: string | null;
}

export class RefundList {
  @ApiProperty({ type: [RefundView] }) data: RefundView[];
  @ApiProperty({ description: 'more follow: pass the last refund_no as starting_after' }) has_more: boolean;
}

export function toRefundView(r: Refund, orderNo: string): RefundView {
  return {
    refund_no: r.refundNo,
    order_no: orderNo,
    payment_no: r.paymentNo,
    payment_method: r.paymentMethod,
    amount: r.amountFen,
    status: r.status,
    kind: r.kind,
    reason: r.reason,
    membership: r.membership,
    requested_by: r.requestedBy,
    failure_reason: r.failureReason,
    provider_refund_id: r.providerRefundId,
    provider_state: r.providerState,
    created_at: r.createdAt.toISOString(),
    succeeded_at: r.succeededAt ? r.succeededAt.toISOString() : null,
  };
}
