import type { Server, Socket } from 'socket.io';
import type { OrderEventType } from '../outbox/order-event.entity';
import type {
  AutoRenewLapsedPayload,
  DeliverableEvent,
  OrderEndedPayload,
  OrderPaidPayload,
  OrderRefundedPayload,
  RenewalFailedPayload,
  RenewalUpcomingPayload,
  RenewedPayload,
} from '../outbox/order-events';

/** What each outbox type carries; a new type fails to compile until its payload is named here. */
export interface OrderEventPayloads {
  'order.paid': OrderPaidPayload;
  'order.expired': OrderEndedPayload;
  'order.closed': OrderEndedPayload;
  'order.refunded': OrderRefundedPayload;
  'membership.renewal_upcoming': RenewalUpcomingPayload;
  'membership.renewed': RenewedPayload;
  'membership.renewal_failed': RenewalFailedPayload;
  'membership.renewal_recovered': RenewedPayload;
  'membership.auto_renew_lapsed': AutoRenewLapsedPayload;
}

/** A message as a client receives it: the outbox id (a decimal string, for `auth.lastEventId`), the type and the payload. */
export type OrderEventMessage<T extends OrderEventType = OrderEventType> = { id: string; type: T } & OrderEventPayloads[T];

/** Sent just before the server closes a connection whose token has expired. */
export interface SessionExpiredMessage {
  code: 'UNAUTHENTICATED';
  message: string;
}

/** Server to client: the socket.io event name is the outbox type; plus `session.expired`. */
export type ServerToClientEvents = { [T in OrderEventType]: (message: OrderEventMessage<T>) => void } & {
  'session.expired': (message: SessionExpiredMessage) => void;
};

/** Clients only listen. */
export type ClientToServerEvents = Record<never, never>;

/** Between instances, through the Redis adapter: events committed on the sending instance. */
export interface InterServerEvents {
  'order-events.committed': (events: DeliverableEvent[]) => void;
}

export interface SocketData {
  userId: string;
  /** The last event id the client says it saw (auth.lastEventId), when it gave one; a string, as socket.data may cross instances. */
  lastEventId: string | null;
  /** When the connection's token expires (ms since the epoch); the connection is closed then. */
  expiresAt: number | null;
}

export type EventsServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type EventsSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** Each connection joins its own user's room, and only that one. */
export const userRoom = (userId: string): string => `user:${userId}`;

export function toMessage(event: DeliverableEvent): OrderEventMessage {
  return { id: event.id, type: event.type, ...event.payload } as OrderEventMessage;
}
