import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AUDIT_ACTIONS } from '../audit/audit-log';
import { ORDER_STATUSES, PAYMENT_METHODS } from '../orders/order-status';
import { PAYMENT_CHANNELS } from '../payments/payment-channel';
import { AdminContractView } from '../subscriptions/subscriptions.views';

/** An order in the console's lists. */
export class SupportOrderRow {
  @ApiProperty() order_no: string;
  @ApiProperty() user_id: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty({ description: 'fen' }) amount: number;
  @ApiProperty({ description: 'fen refunded so far' }) refunded_amount: number;
  @ApiProperty() description: string;
  @ApiProperty({ enum: PAYMENT_METHODS }) payment_method: string;
  @ApiProperty({ enum: PAYMENT_CHANNELS }) channel: string;
  @ApiProperty({ type: String, nullable: true }) payment_no: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'WeChat Pay transaction_id / Alipay trade_no' }) transaction_id: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paid_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    enum: ['order_no', 'user_id', 'payment_no', 'transaction_id', 'refund_no', 'provider_refund_id'],
    description: 'what the search text matched',
  })
  matched_by?: string | null;
}

export class SupportOrderList {
  @ApiProperty({ type: [SupportOrderRow] }) data: SupportOrderRow[];
  @ApiProperty({ description: 'more follow: pass the last order_no as starting_after' }) has_more: boolean;
}

/** One thing that happened to an order. */
export class TimelineEntry {
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({
    enum: [
      'order.created',
      'attempt.opened',
      'attempt.paid',
      'attempt.closed',
      'notification.refused',
      'membership.granted',
      'membership.revoked',
      'refund.requested',
      'refund.finished',
      'event.sent',
      'reconciliation.item',
      'admin.action',
    ],
  })
  kind: string;
  @ApiProperty({ type: String, nullable: true, description: 'the payment_no, refund_no, event id or item id the entry is about' })
  ref: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'what is known of it (amounts in fen)' })
  detail: Record<string, unknown>;
}

export class OrderStory {
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'the order, its plan and price' }) order: Record<string, unknown>;
  @ApiProperty({ description: 'fen that may still be refunded' }) refundable: number;
  @ApiProperty({ type: [TimelineEntry], description: 'everything, oldest first' }) timeline: TimelineEntry[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: "the order's membership periods now" }) periods: Record<
    string,
    unknown
  >[];
  @ApiProperty({ type: 'array', items: { type: 'object' } }) refunds: Record<string, unknown>[];
}

/** A member's contract in the console: what every contract has, and the plan it renews by name. */
export class MemberContractView extends AdminContractView {
  @ApiProperty({ type: String, nullable: true }) plan_code: string | null;
  @ApiProperty({ type: String, nullable: true }) plan_name: string | null;
  @ApiProperty({ type: String, nullable: true }) plan_name_zh: string | null;
}

export class MemberView {
  @ApiProperty() user_id: string;
  @ApiProperty({ description: 'the level now (0: none)' }) level: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'end of all coverage' }) expires_at: string | null;
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'every period, past and future' }) periods: Record<
    string,
    unknown
  >[];
  @ApiProperty({ type: [SupportOrderRow], description: 'the latest 50 orders' }) orders: SupportOrderRow[];
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'the latest 50 refunds' }) refunds: Record<string, unknown>[];
  @ApiProperty({
    type: MemberContractView,
    nullable: true,
    description: "the member's latest auto-renewal contract, open or ended; null when they never had one",
  })
  auto_renewal: MemberContractView | null;
}

export class AuditEntryView {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ description: "the admin's user id" }) actor: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty() target_type: string;
  @ApiProperty() target: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: String, nullable: true }) client_address: string | null;
  @ApiProperty({ type: String, nullable: true }) request_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) detail: Record<string, unknown> | null;
}

export class AuditLogList {
  @ApiProperty({ type: [AuditEntryView] }) data: AuditEntryView[];
  @ApiProperty({ description: 'more follow: pass the last id as before' }) has_more: boolean;
}
