import { ORDER_STATUSES, type OrderStatus } from './order-status';

/**
 * The order's lifecycle: from each status, the statuses it may move to. The one declaration the
 * orders repositories' guards are built from, and the one the database's trigger
 * (orders_status_transition) enforces whatever the path:
 * - an order is created pending, and ends paid, expired, closed (cancelled) or failed (its first
 *   payment could not be opened);
 * - a payment that arrives after the order expired, was cancelled or failed is still honoured: paid;
 * - a paid order is refunded in parts (partially_refunded, as often as it takes) or wholly (refunded,
 *   final).
 */
export const ORDER_TRANSITIONS = {
  pending: ['paid', 'expired', 'closed', 'failed'],
  expired: ['paid'],
  closed: ['paid'],
  failed: ['paid'],
  paid: ['partially_refunded', 'refunded'],
  partially_refunded: ['partially_refunded', 'refunded'],
  refunded: [],
} as const satisfies Record<OrderStatus, readonly OrderStatus[]>;

/** May an order in `from` move to `to`? */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return (ORDER_TRANSITIONS[from] as readonly OrderStatus[]).includes(to);
}

/** The statuses an order may be in for it to move to `to`: a repository's WHERE guard for that move. */
export function movableTo(...to: OrderStatus[]): OrderStatus[] {
  return ORDER_STATUSES.filter((from) => to.some((t) => canMove(from, t)));
}
