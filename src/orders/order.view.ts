import { ApiProperty } from '@nestjs/swagger';
import type { Order } from './order.entity';
import { ORDER_STATUSES, PAYMENT_METHODS, PRODUCT_TYPES } from './order-status';

/** The order as clients see it; amounts in fen, times in ISO 8601. */
export class OrderView {
  @ApiProperty({ example: 'MO20261125183257Y269907TPMWN' }) order_no: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty({ description: 'fen (1/100 CNY)', example: 1990 }) amount: number;
  @ApiProperty({ description: 'fen refunded so far (partial refunds add up; equals amount once refunded)', example: 0 }) refunded_amount: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ example: 'Basic, monthly membership' }) description: string;
  @ApiProperty({ enum: PRODUCT_TYPES }) product_type: string;
  @ApiProperty({ example: 1 }) product_id: number;
  @ApiProperty() is_upgrade: boolean;
  @ApiProperty({ enum: PAYMENT_METHODS }) payment_method: string;
  @ApiProperty({ type: String, nullable: true, description: 'render as a QR code while the order is pending (weixin://… or https://qr.alipay.com/…)' })
  qr_code_url: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) qr_code_expire_at: string | null;
  @ApiProperty({ format: 'date-time' }) expire_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) paid_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class OrderList {
  @ApiProperty({ type: [OrderView] }) data: OrderView[];
  @ApiProperty({ description: 'more orders follow: pass the last order_no as starting_after' }) has_more: boolean;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toOrderView(o: Order): OrderView {
  const payable = o.status === 'pending';
  return {
    order_no: o.orderNo,
    status: o.status,
    amount: o.amountFen,
    refunded_amount: o.refundedAmountFen ?? 0, // a just-created order object has no column default yet
    currency: o.currency,
    description: o.description,
    product_type: o.productType,
    product_id: o.productId,
    is_upgrade: o.isUpgrade,
    payment_method: o.paymentMethod,
    qr_code_url: payable ? o.qrCodeUrl : null,
    qr_code_expire_at: payable ? iso(o.qrCodeExpireAt) : null,
    expire_at: o.expireAt.toISOString(),
    paid_at: iso(o.paidAt),
    created_at: o.createdAt.toISOString(),
  };
}
