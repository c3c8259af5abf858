import type { Order } from './order.entity';

/** The order as clients see it; amounts in fen, times in ISO 8601. */
export interface OrderView {
  order_no: string;
  status: string;
  amount: number;
  currency: string;
  description: string;
  product_type: string;
  product_id: number;
  is_upgrade: boolean;
  payment_method: string;
  qr_code_url: string | null;
  qr_code_expire_at: string | null;
  expire_at: string;
  paid_at: string | null;
  created_at: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toOrderView(o: Order): OrderView {
  const payable = o.status === 'pending';
  return {
    order_no: o.orderNo,
    status: o.status,
    amount: o.amountFen,
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
