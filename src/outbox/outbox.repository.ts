import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { OrderEventType } from './order-event.entity';
import type { DeliverableEvent } from './order-events';

/**
 * The outbox's delivery state. An instance that committed events pushes them and then marks them
 * published; rows still unmarked a few seconds after their commit belong to an instance that died
 * in between, and the relay claims them here (FOR UPDATE SKIP LOCKED, marking them in the same
 * statement), so exactly one instance pushes each.
 */
@Injectable()
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  async markPublished(ids: string[]): Promise<void> {
    if (!ids.length) return;
    await this.dataSource.query(`UPDATE order_events SET published_at = now() WHERE id = ANY($1::bigint[]) AND published_at IS NULL`, [
      ids,
    ]);
  }

  /** Claims up to `limit` rows committed more than `olderThanMs` ago and never announced, oldest first. */
  async claimUnannounced(olderThanMs: number, limit: number): Promise<DeliverableEvent[]> {
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM order_events
          WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE order_events e SET published_at = now() FROM due WHERE e.id = due.id
       RETURNING e.id, e.type, e.user_id, e.payload`,
      [olderThanMs, limit],
    )) as [{ id: string; type: OrderEventType; user_id: string; payload: Record<string, unknown> }[], number];
    return rows
      .map((r) => ({ id: String(r.id), type: r.type, userId: r.user_id, payload: r.payload }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }
}
