import type { EntityManager } from 'typeorm';
import type { ProviderName } from './provider-name';

/** The order an attempt belongs to, locked for its settlement: what payments needs to decide and to report. */
export interface SettlingOrder {
  orderId: string;
  orderNo: string;
  userId: string;
  /** The order's status before this settlement (orders' vocabulary, for the logs). */
  status: string;
  /**
   * This payment must not be kept, and is returned as a double payment: another attempt paid the order
   * already, or the order is a renewal that ended unpaid (its contract was cancelled or lapsed).
   */
  paid: boolean;
  paymentMethod: ProviderName;
  createdAt: Date;
}

/** A verified payment of one of the order's attempts, as payments recorded it on the attempt. */
export interface OrderPayment {
  paymentNo: string;
  transactionId: string | null;
  paidAt: Date;
  /** Settlement already holds the member's lock on this transaction (taken with the attempt's): the fulfilment need not take it. */
  memberLocked?: boolean;
}

/** What the return page shows of an order; return_url: where the member's client asked to come back to. */
export interface ReturnedOrder {
  order_no: string;
  status: string;
  amount: number;
  description: string;
  return_url: string | null;
}

/** What fulfilling a paid order did; `announce` runs after the settling transaction committed. */
export interface Fulfilled {
  announce(): void;
}

/**
 * What settlement asks of the order it settles. Payments moves money and owns the attempts; what
 * follows because an order was paid (its row, the membership, order.paid) is the orders module's,
 * which implements this and provides it under this class (a global provider), so payments reaches
 * it without depending on orders. Both calls run on the settling transaction: the order is locked
 * first, then the attempt, the same order every path takes.
 */
export abstract class PaidOrders<O extends SettlingOrder = SettlingOrder> {
  /** Locks the order (to the end of the transaction) and reads what its fulfilment needs. */
  abstract lockForSettlement(m: EntityManager, orderId: string): Promise<O | undefined>;
  /** Fulfils the order locked above with its first payment, in the same transaction. */
  abstract fulfil(m: EntityManager, order: O, payment: OrderPayment): Promise<Fulfilled>;
  /** How the provider's return page shows the order an attempt belongs to (read-only; never settles). */
  abstract returned(orderId: string): Promise<ReturnedOrder | undefined>;
}
