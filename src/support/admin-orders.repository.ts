import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A row as PostgreSQL returns it: the selected columns under their SQL names, gathered from several tables. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw query rows carry no static column types
export type SqlRow = Record<string, any>;

/**
 * Read-only queries for the support views: they gather rows from several modules' tables (orders,
 * attempts, grants, periods, events) and write nothing.
 */
@Injectable()
export class AdminOrdersRepository {
  constructor(private readonly dataSource: DataSource) {}

  async order(orderNo: string): Promise<SqlRow | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT o.*, p.code AS plan_code FROM orders o LEFT JOIN membership_plans p ON p.id = o.product_id WHERE o.order_no = $1`,
      [orderNo],
    );
    return row;
  }

  attempts(orderId: string): Promise<SqlRow[]> {
    return this.dataSource.query(
      `SELECT payment_no, payment_method, amount, status, trade_state, transaction_id, qr_code_expire_at, query_count, paid_at, created_at
         FROM payment_records WHERE order_id = $1 ORDER BY created_at, payment_no`,
      [orderId],
    );
  }

  /** The order's grant (what it bought), revoked_at set once a full refund took it back. */
  async grant(orderId: string): Promise<SqlRow | undefined> {
    const [row] = await this.dataSource.query(`SELECT g.* FROM membership_grants g WHERE g.order_id = $1`, [orderId]);
    return row;
  }

  /** The order's membership periods (none once refunded in full). */
  periods(orderId: string): Promise<SqlRow[]> {
    return this.dataSource.query(
      `SELECT p.level, p.plan_id, p.starts_at, p.ends_at FROM membership_periods p WHERE p.order_id = $1 ORDER BY p.starts_at`,
      [orderId],
    );
  }

  events(orderId: string): Promise<SqlRow[]> {
    return this.dataSource.query(`SELECT id, type, payload, created_at FROM order_events WHERE order_id = $1 ORDER BY id`, [orderId]);
  }

  /** Newest first, filtered; cursor by (created_at, order_no) of the last order of the previous page. */
  async list(filter: {
    userId?: string;
    status?: string;
    from?: Date;
    to?: Date;
    limit: number;
    after?: { created_at: Date; order_no: string };
  }) {
    const params: unknown[] = [filter.limit + 1];
    const where: string[] = [];
    if (filter.userId) where.push(`user_id = $${params.push(filter.userId)}`);
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.from) where.push(`created_at >= $${params.push(filter.from)}`);
    if (filter.to) where.push(`created_at < $${params.push(filter.to)}`);
    if (filter.after)
      where.push(`(created_at, order_no) < ($${params.push(filter.after.created_at)}, $${params.push(filter.after.order_no)})`);
    return (await this.dataSource.query(
      `SELECT * FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, order_no DESC LIMIT $1`,
      params,
    )) as SqlRow[];
  }
}
