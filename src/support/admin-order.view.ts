import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ORDER_STATUSES, PAYMENT_METHODS } from '../orders/order-status';
import { RefundView } from '../refunds/refund.view';

/** An order as support sees it (more than the member's view: who, which attempt, the provider's trade). */
export class AdminOrderRow {
  @ApiProperty() order_no: string;
  @ApiProperty() user_id: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty({ description: 'fen' }) amount: number;
  @ApiProperty({ description: 'fen refunded so far' }) refunded_amount: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "an upgrade's fen whose days were not there to convert, refunded by itself (null for other orders)",
  })
  upgrade_shortfall: number | null;
  @ApiProperty() currency: string;
  @ApiProperty() description: string;
  @ApiProperty() product_id: number;
  @ApiProperty() is_upgrade: boolean;
  @ApiProperty({ enum: PAYMENT_METHODS }) payment_method: string;
  @ApiProperty({ type: String, nullable: true, description: 'the attempt that paid it (or the current one while pending)' }) payment_no:
    string | null;
  @ApiProperty({ type: String, nullable: true, description: "the provider's trade number" }) transaction_id: string | null;
  @ApiProperty({ format: 'date-time' }) expire_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paid_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiPropertyOptional({ description: 'the plan bought (detail view)' }) plan_code?: string;
}

export class AdminOrderList {
  @ApiProperty({ type: [AdminOrderRow] }) data: AdminOrderRow[];
  @ApiProperty({ description: 'more follow: pass the last order_no as starting_after' }) has_more: boolean;
}

export class AdminAttemptView {
  @ApiProperty() payment_no: string;
  @ApiProperty({ enum: PAYMENT_METHODS }) payment_method: string;
  @ApiProperty({ description: 'fen' }) amount: number;
  @ApiProperty({ enum: ['pending', 'success', 'closed', 'failed', 'refunded'] }) status: string;
  @ApiProperty({ type: String, nullable: true }) trade_state: string | null;
  @ApiProperty({ type: String, nullable: true }) transaction_id: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) qr_code_expire_at: string | null;
  @ApiProperty() query_count: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paid_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class AdminPeriodView {
  @ApiProperty() level: number;
  @ApiProperty() plan_id: number;
  @ApiProperty({ format: 'date-time' }) starts_at: string;
  @ApiProperty({ format: 'date-time' }) ends_at: string;
}

export class AdminEventView {
  @ApiProperty({ description: 'the outbox id' }) id: string;
  @ApiProperty({ enum: ['order.paid', 'order.expired', 'order.closed', 'order.refunded'] }) type: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "as the member's app received it" }) payload: Record<
    string,
    unknown
  >;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

/** Everything about one order, for support. */
export class AdminOrderDetail {
  @ApiProperty({ type: AdminOrderRow }) order: AdminOrderRow;
  @ApiProperty({ type: [AdminAttemptView], description: 'every payment attempt (QR code), oldest first' }) attempts: AdminAttemptView[];
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'the membership grant the payment made (its columns as the membership module keeps them; revoked_at once refunded in full)',
  })
  grant: Record<string, unknown> | null;
  @ApiProperty({ type: [AdminPeriodView], description: "the order's membership periods (none once refunded in full)" })
  periods: AdminPeriodView[];
  @ApiProperty({ type: [RefundView] }) refunds: RefundView[];
  @ApiProperty({ type: [AdminEventView], description: 'the outbox events of the order, in order' }) events: AdminEventView[];
}
