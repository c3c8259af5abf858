import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { OrderEventType } from './order-event.entity';
import type { DeliverableEvent } from './order-events';

/**
 * Planning without bitmap scans, for the rest of the caller's transaction. The outbox's partial
 * indexes (rows not yet published, rows not yet fanned out) keep an entry for every version of a
 * row written since the last vacuum: marking a row published or fanned out writes a new version,
 * and the old version's entry stays. A plain index scan marks the entries it finds dead
 * (PostgreSQL's kill_prior_tuple), so later scans skip them; a bitmap scan, which the planner picks
 * when it expects few rows, never does, so each pass read every dead entry again (under the
 * bench's settlement load: 1,443 entries and 174 heap pages for 13 rows, 3.8 ms a pass; 7 pages
 * once a plain scan had marked them).
 */
const WITHOUT_BITMAP_SCANS = 'SET LOCAL enable_bitmapscan = off';

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
    const [rows] = await this.dataSource.transaction(async (m) => {
      await m.query(WITHOUT_BITMAP_SCANS);
      return (await m.query(
        `WITH due AS (
         SELECT id FROM order_events
          WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE order_events e SET published_at = now() FROM due WHERE e.id = due.id
       RETURNING e.id, e.type, e.user_id, e.payload`,
        [olderThanMs, limit],
      )) as [{ id: string; type: OrderEventType; user_id: string; payload: Record<string, unknown> }[], number];
    });
    return rows
      .map((r) => ({ id: String(r.id), type: r.type, userId: r.user_id, payload: r.payload }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /**
   * The oldest rows not yet handed to the second consumer (the service webhooks), in id order, on
   * the caller's transaction. The caller serialises its hand-overs, so rows are never skipped: a
   * member's rows commit in id order (appendOrderEvent), so a later one is never seen without the
   * earlier ones.
   */
  async notFannedOut(m: EntityManager, limit: number): Promise<(DeliverableEvent & { createdAt: Date })[]> {
    await m.query(WITHOUT_BITMAP_SCANS);
    const rows = (await m.query(
      `SELECT id, type, user_id, payload, created_at FROM order_events WHERE fanned_out_at IS NULL ORDER BY id LIMIT $1`,
      [limit],
    )) as { id: string; type: OrderEventType; user_id: string; payload: Record<string, unknown>; created_at: Date }[];
    return rows.map((r) => ({ id: String(r.id), type: r.type, userId: r.user_id, payload: r.payload, createdAt: r.created_at }));
  }

  async markFannedOut(m: EntityManager, ids: string[]): Promise<void> {
    if (!ids.length) return;
    await m.query(`UPDATE order_events SET fanned_out_at = now() WHERE id = ANY($1::bigint[]) AND fanned_out_at IS NULL`, [ids]);
  }

  /**
   * Each member's last membership snapshot (the `membership` an event carries) before the given id,
   * on the caller's transaction: what a consumer compares a new snapshot with. Members with none are absent.
   * Each member's latest is read from the end of their events (the (user_id, id) index, backwards),
   * not picked from all of them: a member who renews every month has years of events.
   */
  async membershipBefore(m: EntityManager, firstIds: ReadonlyMap<string, string>): Promise<Map<string, Record<string, unknown>>> {
    if (!firstIds.size) return new Map();
    const rows = (await m.query(
      `SELECT u.user_id, last.membership
         FROM unnest($1::varchar[], $2::bigint[]) AS u(user_id, first_id)
         CROSS JOIN LATERAL (
           SELECT e.payload->'membership' AS membership FROM order_events e
            WHERE e.user_id = u.user_id AND e.id < u.first_id AND e.payload ? 'membership'
            ORDER BY e.id DESC LIMIT 1) last`,
      [[...firstIds.keys()], [...firstIds.values()]],
    )) as { user_id: string; membership: Record<string, unknown> }[];
    return new Map(rows.map((r) => [r.user_id, r.membership]));
  }
}
