import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ProviderName } from '../payments/provider-name';

/** Rows one run of a job claims at most. */
export const BATCH_SIZE = 20;

export interface ClaimedAttempt {
  id: string;
  paymentNo: string;
  method: ProviderName;
  orderId: string;
}

interface ClaimedRow { id: string; payment_no: string; payment_method: ProviderName; order_id: string }

/**
 * Which attempt each job takes up, and when: its queries live here; every state change goes
 * through PaymentsService and OrdersService.
 *
 * payment_records.next_query_at is when any instance may next call the provider about a
 * pending attempt (NULL: no query is scheduled). A job claims a batch in one short statement,
 * `FOR UPDATE SKIP LOCKED` plus moving next_query_at to the end of a lease, so other instances
 * skip those rows while the provider is called outside any transaction. A crashed instance's
 * claim lapses when the lease ends. The query schedule never runs past the attempt's QR expiry,
 * so expiry is never held up by a far-off query.
 */
@Injectable()
export class AttemptClaimsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Pending attempts due for an active query, within their retry budget and QR validity. */
  claimDueQueries(now: Date, limit: number, retryMax: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(
      `r.status = 'pending' AND r.next_query_at <= $1 AND r.query_count < $4 AND r.qr_code_expire_at > $1`,
      'r.next_query_at', [now, limit, leaseUntil, retryMax],
    );
  }

  /** Pending attempts whose QR code expired, except those of pending orders past their own expiry. */
  claimExpiredQrCodes(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(
      `r.status = 'pending' AND r.qr_code_expire_at <= $1 AND (r.next_query_at IS NULL OR r.next_query_at <= $1)
       AND (o.status <> 'pending' OR o.expire_at > $1)`,
      'r.qr_code_expire_at', [now, limit, leaseUntil],
    );
  }

  /** Pending attempts of pending orders past expire_at: closed at the provider before the order expires. */
  claimAttemptsOfExpiredOrders(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(
      `r.status = 'pending' AND o.status = 'pending' AND o.expire_at <= $1 AND (r.next_query_at IS NULL OR r.next_query_at <= $1)`,
      'o.expire_at', [now, limit, leaseUntil],
    );
  }

  /**
   * Pending orders past expire_at with no pending attempt left: ready to expire. No lease is
   * needed: OrdersService.end moves an order only while it is pending, so one caller wins.
   */
  async ordersReadyToExpire(now: Date, limit: number): Promise<string[]> {
    const rows = await this.dataSource.query(
      `SELECT o.id FROM orders o
       WHERE o.status = 'pending' AND o.expire_at <= $1
         AND NOT EXISTS (SELECT 1 FROM payment_records r WHERE r.order_id = o.id AND r.status = 'pending')
       ORDER BY o.expire_at LIMIT $2`,
      [now, limit],
    ) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /**
   * Counts one active query and schedules the next at 1, 2, 4, 8, 16 … minutes after the attempt
   * was opened (never past its QR expiry), or none once retryMax queries were made.
   */
  async recordQuery(attemptId: string, retryMax: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET query_count = query_count + 1, updated_at = now(),
         next_query_at = CASE WHEN status = 'pending' AND query_count + 1 < $2
           THEN LEAST(created_at + make_interval(mins => power(2, query_count + 1)::int), qr_code_expire_at) END
       WHERE id = $1`,
      [attemptId, retryMax],
    );
  }

  /** Gives a claimed attempt back (the provider failed): due again at `now`, so the next tick retries it. */
  async release(attemptId: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET next_query_at = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`,
      [attemptId, now],
    );
  }

  /** $1 now, $2 limit, $3 lease end; further parameters belong to `where`. */
  private async claim(where: string, orderBy: string, params: unknown[]): Promise<ClaimedAttempt[]> {
    const rows = await this.dataSource.query(
      `WITH due AS (
         SELECT r.id FROM payment_records r JOIN orders o ON o.id = r.order_id
         WHERE ${where} ORDER BY ${orderBy} LIMIT $2 FOR UPDATE OF r SKIP LOCKED)
       UPDATE payment_records r SET next_query_at = $3, updated_at = now() FROM due WHERE r.id = due.id
       RETURNING r.id, r.payment_no, r.payment_method, r.order_id`,
      params,
    ) as [ClaimedRow[], number];
    return rows[0].map((r) => ({ id: r.id, paymentNo: r.payment_no, method: r.payment_method, orderId: r.order_id }));
  }
}
