import type { MemberContract } from '../../membership/auto-renewals';
import { entitlementAt } from '../../membership/entitlement';
import type { MembershipSnapshot } from '../../membership/membership.views';

/** An outbox row, as the webhooks read it. */
export interface OutboxRow {
  id: string;
  type: string;
  userId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * What a row is read with: for the types that announce a change, the member's previous membership
 * snapshot; and the member's auto-renewal contract as it stands when the row is handed to the
 * webhooks (the entitlement's auto_renew and grace; none: no contract).
 */
export interface Before {
  membership: MembershipSnapshot | null;
  contract?: MemberContract | null;
}

/**
 * One kind of webhook event: which outbox rows give rise to it, its id (the outbox row's id; an
 * event derived beside another from the same row gets a suffix, so a receiver deduping by id never
 * drops one for the other), and its `data` (null: this row does not give one).
 */
export interface WebhookEventType {
  type: string;
  from: string;
  idSuffix?: string;
  data(row: OutboxRow, before: Before): Record<string, unknown> | null;
}

/** The order's own event, as members hear it on the WebSocket, with whose order it is. */
const asOrderEvent = (row: OutboxRow) => ({ user_id: row.userId, ...row.payload });

/**
 * The new entitlement, from the membership snapshot that the events changing the ledger carry; none
 * when the level, plan and periods are what the member's previous snapshot gives at the same instant
 * (a refund whose days support kept, a payment of a double payment).
 */
function membershipChanged(row: OutboxRow, before: Before): Record<string, unknown> | null {
  const membership = row.payload.membership as MembershipSnapshot | undefined;
  if (!membership) return null;
  // The snapshot was taken inside the event's transaction, a moment after the row's created_at
  // (the transaction's start): its first period may begin in between, and was running when taken.
  const first = membership.level !== null ? membership.periods[0] : undefined;
  const at = new Date(Math.max(row.createdAt.getTime(), first ? Date.parse(first.starts_at) : 0));
  const now = entitlementAt(row.userId, membership.periods, at, before.contract ?? undefined);
  if (before.membership) {
    const then = entitlementAt(row.userId, before.membership.periods, at);
    const same = (e: typeof now) =>
      JSON.stringify([e.level, e.plan_code, e.periods.map((p) => [p.level, p.plan_code, p.starts_at, p.ends_at])]);
    if (same(then) === same(now)) return null;
  }
  return { ...now, order_no: row.payload.order_no, cause: row.type };
}

/**
 * Every webhook event type, in one table: a new one (the auto-renewal events) is a row here, from
 * the outbox type that carries it. Endpoints subscribe to the `type`s.
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  { type: 'order.paid', from: 'order.paid', data: asOrderEvent },
  { type: 'order.refunded', from: 'order.refunded', data: asOrderEvent },
  { type: 'order.expired', from: 'order.expired', data: asOrderEvent },
  { type: 'order.closed', from: 'order.closed', data: asOrderEvent },
  { type: 'membership.changed', from: 'order.paid', idSuffix: 'membership.changed', data: membershipChanged },
  { type: 'membership.changed', from: 'order.refunded', idSuffix: 'membership.changed', data: membershipChanged },
  // Auto-renewal: the member's own events, as the WebSocket carries them.
  { type: 'membership.renewal_upcoming', from: 'membership.renewal_upcoming', data: asOrderEvent },
  { type: 'membership.renewed', from: 'membership.renewed', data: asOrderEvent },
  { type: 'membership.renewal_failed', from: 'membership.renewal_failed', data: asOrderEvent },
  { type: 'membership.renewal_recovered', from: 'membership.renewal_recovered', data: asOrderEvent },
  { type: 'membership.auto_renew_lapsed', from: 'membership.auto_renew_lapsed', data: asOrderEvent },
];

/** The types an endpoint may subscribe to. */
export const WEBHOOK_EVENT_NAMES: readonly string[] = [...new Set(WEBHOOK_EVENT_TYPES.map((t) => t.type))];

export interface WebhookEvent {
  id: string;
  type: string;
  body: string;
}

/** The webhook events an outbox row gives: the body every attempt posts, `{ id, type, created_at, data }`. */
export function webhookEventsOf(row: OutboxRow, before: Before = { membership: null }): WebhookEvent[] {
  const out: WebhookEvent[] = [];
  for (const t of WEBHOOK_EVENT_TYPES) {
    if (t.from !== row.type) continue;
    const data = t.data(row, before);
    if (!data) continue;
    const id = t.idSuffix ? `${row.id}:${t.idSuffix}` : row.id;
    out.push({ id, type: t.type, body: JSON.stringify({ id, type: t.type, created_at: row.createdAt.toISOString(), data }) });
  }
  return out;
}
