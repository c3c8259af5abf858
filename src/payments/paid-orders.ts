import type { EntityManager } from 'typeorm';

/** An order's first payment, as settlement records it on the order. */
export interface OrderPayment {
  orderId: string;
  paymentNo: string;
  transactionId: string | null;
  paidAt: Date;
  /** An upgrade's fen not covered by the days it converted (null for other orders). */
  upgradeShortfall: number | null;
}

/**
 * What settlement asks of the order it settles. The orders table belongs to the orders module,
 * which implements this and provides it under this class (a global provider), so payments marks an
 * order paid inside its settling transaction without depending on orders.
 */
export abstract class PaidOrders {
  abstract markPaid(m: EntityManager, payment: OrderPayment): Promise<void>;
}
