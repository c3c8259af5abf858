import type { EntityManager } from 'typeorm';
import { runParts, StatementPart } from '../database/statement-parts';
import type { MembershipSnapshot } from '../membership/membership.views';
import type { OrderEventType } from './order-event.entity';

/** An outbox row as delivered to clients (the WebSocket payload is `payload`, plus id and type). */
export interface CommittedOrderEvent {
  id: string;
  type: OrderEventType;
  userId: string;
  orderNo: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  /**
   * The order, when the writer knows it (order.paid from a settlement): its id and what kind it is, for
   * this process's listeners only, never stored or delivered. A listener that needs it treats its
   * absence as unknown.
   */
  order?: { id: string; source: 'member' | 'renewal' };
}

/** The part of an outbox row that delivery needs; it also travels between instances. */
export type DeliverableEvent = Pick<CommittedOrderEvent, 'id' | 'type' | 'userId' | 'payload'>;

/** Emitted on the in-process event bus after the transaction that wrote the events committed. */
export const ORDER_EVENTS_COMMITTED = 'order-events.committed';

/** Payloads, documented for client developers in the README (WebSocket events). */
export interface OrderPaidPayload {
  order_no: string;
  amount: number;
  currency: 'CNY';
  paid_at: string;
  membership: MembershipSnapshot;
}
export interface OrderEndedPayload {
  order_no: string;
  status: 'expired' | 'closed';
  at: string;
}
/** A successful refund of the order's payment: this refund's amount, all refunded so far, and the membership after it. */
export interface OrderRefundedPayload {
  order_no: string;
  amount: number;
  refunded_total: number;
  status: 'partially_refunded' | 'refunded';
  membership: MembershipSnapshot;
}

/** The CTE of orderEventAppend that returns the new row's id and created_at. */
export const ORDER_EVENT_ADDED = 'order_event_added';

/**
 * The outbox row as a part of a statement (database/statement-parts.ts), for a change that sends
 * its own writes and its event in one round trip; `order_event_added` returns its id and created_at.
 */
export function orderEventAppend(orderId: string, userId: string, type: OrderEventType, payload: Record<string, unknown>): StatementPart {
  // The per-user advisory lock, held to commit, makes one user's event ids commit in id order, so a
  // client replaying from its last id can never skip a lower id that committed later.
  // MembershipRepository.lockMember takes the same lock by the same key around a ledger change:
  // change the key in both places together.
  return {
    key: 'order-event-append',
    ctes: `order_event_serialised AS (SELECT pg_advisory_xact_lock(hashtextextended($2, 0))),
       ${ORDER_EVENT_ADDED} AS (
         INSERT INTO order_events (order_id, user_id, type, payload) SELECT $1, $2, $3, $4 FROM order_event_serialised
         RETURNING id, created_at)`,
    values: [orderId, userId, type, JSON.stringify(payload)],
  };
}

/** The event as it will be announced after commit, from the row the append returned. */
export function committedEvent(
  row: { id: string; created_at: Date },
  userId: string,
  orderNo: string,
  type: OrderEventType,
  payload: Record<string, unknown>,
): CommittedOrderEvent {
  return { id: String(row.id), type, userId, orderNo, payload, createdAt: row.created_at };
}

/** T − 5 days: a renewal is coming (the reminder the rules for auto-renewal require), once per cycle. */
export interface RenewalUpcomingPayload {
  order_no: string;
  plan_code: string;
  amount: number;
  /** T, when the deduction is due and the new period starts. */
  charge_on: string;
  provider: string;
}
/** A renewal deduction settled: the new period, as order.paid shows it. `recovered`: it came after a failure. */
export interface RenewedPayload {
  order_no: string;
  plan_code: string;
  amount: number;
  cycle: number;
  recovered: boolean;
  next_renewal_at: string;
}
/** A renewal try failed: access is kept until grace_ends_at; `next_try_at` null when no try is left. */
export interface RenewalFailedPayload {
  order_no: string;
  plan_code: string;
  amount: number;
  reason: string;
  tries: number;
  next_try_at: string | null;
  grace_ends_at: string;
}
/** Renewals failed past the grace (or the provider ended the contract): auto-renewal is over. */
export interface AutoRenewLapsedPayload {
  order_no: string;
  plan_code: string;
  reason: string;
  at: string;
}

/**
 * Appends an event on the caller's transaction, so it commits or rolls back with the change.
 * Returns the row, to be announced after commit.
 */
export async function appendOrderEvent(
  m: EntityManager,
  orderId: string,
  userId: string,
  orderNo: string,
  type: OrderEventType,
  payload: Record<string, unknown>,
): Promise<CommittedOrderEvent> {
  const [row] = await runParts<{ id: string; created_at: Date }>(m, [orderEventAppend(orderId, userId, type, payload)], {
    key: 'appended',
    text: `SELECT id, created_at FROM ${ORDER_EVENT_ADDED}`,
    values: [],
  });
  return committedEvent(row, userId, orderNo, type, payload);
}
