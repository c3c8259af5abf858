import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ProviderName } from './provider-name';

/**
 * Rows per order at most. A row holds one order, provider, rejection code and minute, so an order
 * under a flood of forgeries fills this in about a minute per 40 rows (2 providers × 20 codes), after
 * which only the rows already there keep counting. Far above what genuine trouble with one order
 * makes, and a bound on what someone who knows one of our out_trade_no can make us store.
 */
export const MAX_REFUSAL_ROWS_PER_ORDER = 200;

/** A payment number as we write one (and as both providers allow): anything else names no attempt of ours. */
const PAYMENT_NO = /^[0-9A-Za-z_-]{1,32}$/;

export interface RefusalRow {
  paymentNo: string;
  provider: ProviderName;
  reason: string;
  firstAt: Date;
  lastAt: Date;
  count: number;
}

/** Every query on notification_refusals (payments owns it; support reads it through forOrder). */
@Injectable()
export class NotificationRefusalsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Counts a refused notification against the attempt it names, in one statement: nothing when the
   * number is none of ours; else the minute's row for the order, provider and code is added or
   * counted, and no new row is added to an order that has MAX_REFUSAL_ROWS_PER_ORDER already.
   * True when something was recorded.
   */
  async record(provider: ProviderName, paymentNo: string, reason: string, at: Date): Promise<boolean> {
    if (!PAYMENT_NO.test(paymentNo)) return false;
    const minute = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
    const rows = (await this.dataSource.query(
      `INSERT INTO notification_refusals AS r (order_id, payment_no, provider, reason, minute, first_at, last_at)
       SELECT p.order_id, p.payment_no, $2::varchar, $3::varchar, $4::timestamptz, $5::timestamptz, $5::timestamptz
       FROM payment_records p
       WHERE p.payment_no = $1
         AND ((SELECT count(*) FROM notification_refusals WHERE order_id = p.order_id) < $6::int
           OR EXISTS (SELECT 1 FROM notification_refusals x
                      WHERE x.order_id = p.order_id AND x.provider = $2::varchar AND x.reason = $3::varchar AND x.minute = $4::timestamptz))
       ON CONFLICT ON CONSTRAINT "UQ_notification_refusals_minute"
         DO UPDATE SET count = r.count + 1, last_at = greatest(r.last_at, excluded.last_at)
       RETURNING r.id`,
      [paymentNo, provider, reason, minute, at, MAX_REFUSAL_ROWS_PER_ORDER],
    )) as unknown[];
    return rows.length > 0;
  }

  /** An order's refused notifications, oldest first. */
  forOrder(orderId: string): Promise<RefusalRow[]> {
    return this.dataSource.query(
      `SELECT payment_no AS "paymentNo", provider, reason, first_at AS "firstAt", last_at AS "lastAt", count
       FROM notification_refusals WHERE order_id = $1 ORDER BY first_at, id LIMIT $2`,
      [orderId, MAX_REFUSAL_ROWS_PER_ORDER],
    );
  }
}
