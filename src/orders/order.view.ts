import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OFFERED_CHANNELS } from '../payments/provider-catalog';
import type { Order } from './order.entity';
import { ORDER_STATUSES, PAYMENT_METHODS, PRODUCT_TYPES } from './order-status';

/**
 * What the client needs to pay, by channel (docs/channels.md). Only the fields of the order's
 * channel are present; all signatures are ours, made with the merchant key.
 */
export class PayView {
  @ApiProperty({ enum: OFFERED_CHANNELS }) channel: string;
  @ApiProperty({ format: 'date-time', description: 'after this, ask for a fresh one with POST …/refresh' }) expires_at: string;
  @ApiPropertyOptional({ description: 'qr: render as a QR code (weixin://… or https://qr.alipay.com/…)' }) qr_code_url?: string;
  @ApiPropertyOptional({ description: 'WeChat app: the mobile app id (PayReq.appId)' }) appid?: string;
  @ApiPropertyOptional({ description: 'WeChat app: the merchant id (PayReq.partnerId)' }) partnerid?: string;
  @ApiPropertyOptional({ description: 'WeChat app: PayReq.prepayId' }) prepayid?: string;
  @ApiPropertyOptional({ description: 'WeChat app: "Sign=WXPay"; jsapi: "prepay_id=…"' }) package?: string;
  @ApiPropertyOptional({ description: 'WeChat app: PayReq.nonceStr' }) noncestr?: string;
  @ApiPropertyOptional({ description: 'WeChat app: PayReq.timeStamp (Unix seconds)' }) timestamp?: string;
  @ApiPropertyOptional({ description: 'WeChat app: PayReq.sign (RSA, merchant key, over appid, timestamp, noncestr, prepayid)' })
  sign?: string;
  @ApiPropertyOptional({ description: 'WeChat jsapi: appId for getBrandWCPayRequest / wx.requestPayment' }) appId?: string;
  @ApiPropertyOptional({ description: 'WeChat jsapi: timeStamp (Unix seconds)' }) timeStamp?: string;
  @ApiPropertyOptional({ description: 'WeChat jsapi: nonceStr' }) nonceStr?: string;
  @ApiPropertyOptional({ description: 'WeChat jsapi: "RSA"' }) signType?: string;
  @ApiPropertyOptional({ description: 'WeChat jsapi: paySign (RSA, merchant key, over appId, timeStamp, nonceStr, package)' })
  paySign?: string;
  @ApiPropertyOptional({ description: 'WeChat h5: open in the phone browser (about 5 minutes; redirect_url appended when configured)' })
  h5_url?: string;
  @ApiPropertyOptional({ description: 'Alipay app: the signed order string for the Alipay SDK' }) order_string?: string;
  @ApiPropertyOptional({ description: 'Alipay wap/page: the signed gateway URL to open in the browser' }) url?: string;
}

/** The order as clients see it; amounts in fen, times in ISO 8601. */
export class OrderView {
  @ApiProperty({ example: 'MO20261125183257Y269907TPMWN' }) order_no: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty({ description: 'fen (1/100 CNY)', example: 1990 }) amount: number;
  @ApiProperty({ description: 'fen refunded so far (partial refunds add up; equals amount once refunded)', example: 0 })
  refunded_amount: number;
  @ApiProperty({ example: 'CNY' }) currency: string;
  @ApiProperty({ example: 'Basic, monthly membership' }) description: string;
  @ApiProperty({ enum: PRODUCT_TYPES }) product_type: string;
  @ApiProperty({ example: 1 }) product_id: number;
  @ApiProperty() is_upgrade: boolean;
  @ApiProperty({ description: 'bought with auto-renewal: paying it also signs the contract (GET /membership/me shows it)' })
  auto_renew: boolean;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      "an upgrade's fen whose days were no longer there to convert when it was paid (or after a refund took them): returned by a refund of its own",
    example: null,
  })
  upgrade_shortfall: number | null;
  @ApiProperty({ enum: PAYMENT_METHODS }) payment_method: string;
  @ApiProperty({ enum: OFFERED_CHANNELS, description: 'how the order is paid' }) channel: string;
  @ApiProperty({ type: PayView, nullable: true, description: 'what the client needs to pay, while the order is pending' })
  pay: PayView | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'qr channel: render as a QR code while the order is pending (weixin://… or https://qr.alipay.com/…); also in pay',
  })
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
    auto_renew: o.autoRenew ?? false,
    upgrade_shortfall: o.upgradeShortfall ?? null,
    payment_method: o.paymentMethod,
    channel: o.channel,
    pay: payable ? payViewOf(o) : null,
    qr_code_url: payable ? o.qrCodeUrl : null,
    qr_code_expire_at: payable ? iso(o.qrCodeExpireAt) : null,
    expire_at: o.expireAt.toISOString(),
    paid_at: iso(o.paidAt),
    created_at: o.createdAt.toISOString(),
  };
}

/** Orders made before channels existed keep their QR code only in qr_code_url. */
function payViewOf(o: Order): PayView | null {
  const params = o.payParams ?? (o.qrCodeUrl ? { qr_code_url: o.qrCodeUrl } : null);
  if (!params || !o.qrCodeExpireAt) return null;
  return { channel: o.channel, expires_at: o.qrCodeExpireAt.toISOString(), ...params };
}
