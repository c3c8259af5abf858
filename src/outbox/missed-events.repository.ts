import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { OrderEventType } from './order-event.entity';
import type { DeliverableEvent } from './order-events';

/** How far back a reconnecting client is caught up, as README promises integrators (24 hours). */
export const REPLAY_WINDOW_HOURS = 24;

interface Row {
  id: string;
  type: OrderEventType;
  user_id: string;
  payload: Record<string, unknown>;
}

/** An event with when it was announced (null: not yet), read again for connections that may have missed it. */
export type AnnouncedEvent = DeliverableEvent & { publishedAt: Date | null };

/** Reads the outbox for a reconnecting client: its own events after the last one it saw. */
@Injectable()
export class MissedEventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One page of the user's events after `afterId` from the replay window, oldest first (IDX_order_events_user). */
  async after(userId: string, afterId: bigint, limit: number): Promise<DeliverableEvent[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, type, user_id, payload FROM order_events
       WHERE user_id = $1 AND id > $2 AND created_at > now() - make_interval(hours => $3)
       ORDER BY id LIMIT $4`,
      [userId, afterId.toString(), REPLAY_WINDOW_HOURS, limit],
    )) as Row[];
    return rows.map((r) => ({ id: String(r.id), type: r.type, userId: r.user_id, payload: r.payload }));
  }

  /**
   * These users' events from the replay window announced at or after `since`, or not announced yet,
   * oldest first: what a connection may have missed while its instance could not hear the others.
   * Read by user (IDX_order_events_user): the users are those connected to one instance, their
   * events a few each; the caller passes them in chunks.
   */
  async announcedSince(userIds: string[], since: Date): Promise<AnnouncedEvent[]> {
    if (!userIds.length) return [];
    const rows = (await this.dataSource.query(
      `SELECT id, type, user_id, payload, published_at FROM order_events
       WHERE user_id = ANY($1::varchar[]) AND (published_at IS NULL OR published_at >= $2)
         AND created_at > now() - make_interval(hours => $3)
       ORDER BY id`,
      [userIds, since, REPLAY_WINDOW_HOURS],
    )) as (Row & { published_at: Date | null })[];
    return rows.map((r) => ({ id: String(r.id), type: r.type, userId: r.user_id, payload: r.payload, publishedAt: r.published_at }));
  }
}
