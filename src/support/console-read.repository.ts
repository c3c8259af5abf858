import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A row as PostgreSQL returns it: the selected columns under their SQL names, gathered from several tables. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw query rows carry no static column types
export type Row = Record<string, any>;

export interface OrderSearch {
  /** An order number, payment number, provider trade number, refund number (ours or the provider's) or user id. */
  q?: string;
  /** The member's orders only. */
  userId?: string;
  status?: string;
  provider?: string;
  channel?: string;
  from?: Date;
  to?: Date;
  limit: number;
  after?: { created_at: Date; order_no: string };
}

const ORDER_COLUMNS = `o.id, o.order_no, o.user_id, o.status, o.amount, o.refunded_amount, o.currency, o.description, o.product_id,
  o.is_upgrade, o.upgrade_from_level, o.upgrade_shortfall, o.payment_method, o.channel, o.payment_no, o.transaction_id, o.expire_at,
  o.paid_at, o.created_at, o.updated_at, o.auto_renew, o.source`;

/**
 * The support console's read model: read-only queries over the tables of orders, payments,
 * membership, refunds, the outbox and reconciliation (each written by its own module), gathered
 * for finding an order, telling its story, showing a member and exporting the day's books.
 * Nothing here writes.
 */
@Injectable()
export class ConsoleReadRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Orders matching the search, newest first, each with what the search text matched. The text is
   * looked up exactly in each number's own index first (never a scan of every order for a LIKE).
   */
  search(s: OrderSearch): Promise<Row[]> {
    const args: unknown[] = [s.limit + 1];
    const where: string[] = [];
    let from = `orders o`;
    let matched = `NULL::text AS matched_by`;
    if (s.q) {
      const q = `$${args.push(s.q)}`;
      from = `orders o JOIN (SELECT DISTINCT ON (order_id) order_id, matched_by FROM (
          SELECT id AS order_id, CASE WHEN order_no = ${q} THEN 'order_no' ELSE 'user_id' END AS matched_by, 1 AS rank
            FROM orders WHERE order_no = ${q} OR user_id = ${q}
          UNION ALL
          SELECT order_id, CASE WHEN payment_no = ${q} THEN 'payment_no' ELSE 'transaction_id' END, 2
            FROM payment_records WHERE payment_no = ${q} OR transaction_id = ${q}
          UNION ALL
          SELECT order_id, CASE WHEN refund_no = ${q} THEN 'refund_no' ELSE 'provider_refund_id' END, 3
            FROM refunds WHERE refund_no = ${q} OR provider_refund_id = ${q}
        ) h ORDER BY order_id, rank) hit ON hit.order_id = o.id`;
      matched = `hit.matched_by`;
    }
    if (s.userId) where.push(`o.user_id = $${args.push(s.userId)}`);
    if (s.status) where.push(`o.status = $${args.push(s.status)}`);
    if (s.provider) where.push(`o.payment_method = $${args.push(s.provider)}`);
    if (s.channel) where.push(`o.channel = $${args.push(s.channel)}`);
    if (s.from) where.push(`o.created_at >= $${args.push(s.from)}`);
    if (s.to) where.push(`o.created_at < $${args.push(s.to)}`);
    if (s.after) where.push(`(o.created_at, o.order_no) < ($${args.push(s.after.created_at)}, $${args.push(s.after.order_no)})`);
    return this.dataSource.query(
      `SELECT ${ORDER_COLUMNS}, ${matched} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY o.created_at DESC, o.order_no DESC LIMIT $1`,
      args,
    );
  }

  async order(orderNo: string): Promise<Row | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT ${ORDER_COLUMNS}, p.code AS plan_code, p.name AS plan_name, p.level AS plan_level, p.duration_days AS plan_days,
         p.price AS plan_price
       FROM orders o LEFT JOIN membership_plans p ON p.id = o.product_id WHERE o.order_no = $1`,
      [orderNo],
    );
    return row;
  }

  attempts(orderId: string): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT payment_no, payment_method, channel, amount, status, trade_state, transaction_id, qr_code_url, pay_params,
         qr_code_expire_at, query_count, (notify_payload IS NOT NULL) AS verified, paid_at, created_at, updated_at
       FROM payment_records WHERE order_id = $1 ORDER BY created_at, payment_no`,
      [orderId],
    );
  }

  async grant(orderId: string): Promise<Row | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT g.*, p.code AS plan_code FROM membership_grants g LEFT JOIN membership_plans p ON p.id = g.plan_id WHERE g.order_id = $1`,
      [orderId],
    );
    return row;
  }

  periodsOfOrder(orderId: string): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT m.level, m.plan_id, p.code AS plan_code, m.starts_at, m.ends_at FROM membership_periods m LEFT JOIN membership_plans p ON p.id = m.plan_id
       WHERE m.order_id = $1 ORDER BY m.starts_at`,
      [orderId],
    );
  }

  refundsOfOrder(orderNo: string): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT refund_no, payment_no, payment_method, amount, status, kind, membership, reason, requested_by, provider_refund_id, provider_state,
         failure_reason, provider_calls, query_count, succeeded_at, created_at, updated_at
       FROM refunds WHERE order_id = (SELECT id FROM orders WHERE order_no = $1) ORDER BY created_at, refund_no`,
      [orderNo],
    );
  }

  events(orderId: string): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT id::text AS id, type, payload, created_at, published_at FROM order_events WHERE order_id = $1 ORDER BY id`,
      [orderId],
    );
  }

  /** Reconciliation items about these payments or refunds, with their run's provider and day. */
  reconciliationItems(paymentNos: string[], refundNos: string[]): Promise<Row[]> {
    if (!paymentNos.length && !refundNos.length) return Promise.resolve([]);
    return this.dataSource.query(
      `SELECT i.id, i.kind, i.reference, i.payment_no, i.outcome, i.local_amount, i.provider_amount, i.local_status, i.provider_status,
         i.provider_trade_no, i.provider_fee_milli_fen::text AS provider_fee_milli_fen, i.provider_fee_decimals, i.action, i.detail,
         i.resolved_at, i.resolved_by, i.resolution_note, i.created_at, r.provider, r.bill_date::text AS bill_date, r.compared_at
       FROM reconciliation_items i JOIN reconciliation_runs r ON r.id = i.run_id
       WHERE (i.kind = 'payment' AND i.payment_no = ANY($1)) OR (i.kind = 'refund' AND i.reference = ANY($2))
       ORDER BY r.bill_date, i.created_at`,
      [paymentNos, refundNos],
    );
  }

  /** A plan's names, for showing what a contract renews. */
  async plan(planId: number): Promise<Row | undefined> {
    const [row] = await this.dataSource.query(`SELECT id, code, name, name_zh, level FROM membership_plans WHERE id = $1`, [planId]);
    return row;
  }

  /** Every period of the member's ledger, past and future, with the order that bought it. */
  memberPeriods(userId: string): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT m.level, p.code AS plan_code, m.starts_at, m.ends_at, o.order_no
       FROM membership_periods m LEFT JOIN membership_plans p ON p.id = m.plan_id LEFT JOIN orders o ON o.id = m.order_id
       WHERE m.user_id = $1 ORDER BY m.starts_at`,
      [userId],
    );
  }

  memberOrders(userId: string, limit: number): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT ${ORDER_COLUMNS} FROM orders o WHERE o.user_id = $1 ORDER BY o.created_at DESC, o.order_no DESC LIMIT $2`,
      [userId, limit],
    );
  }

  memberRefunds(userId: string, limit: number): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT r.refund_no, o.order_no, r.payment_no, r.payment_method, r.amount, r.status, r.kind, r.membership, r.reason, r.requested_by,
         r.provider_refund_id, r.provider_state, r.failure_reason, r.succeeded_at, r.created_at
       FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.user_id = $1 ORDER BY r.created_at DESC LIMIT $2`,
      [userId, limit],
    );
  }

  /**
   * The reconciled items of the Beijing bill days from..to (inclusive), for finance's export: each
   * with its order (through the payment it names) and its run's provider and day.
   */
  books(from: string, to: string, provider: string | undefined, limit: number): Promise<Row[]> {
    return this.dataSource.query(
      `SELECT r.bill_date::text AS bill_date, r.provider, i.kind, o.order_no, o.user_id, i.payment_no,
         CASE WHEN i.kind = 'refund' THEN i.reference END AS refund_no, coalesce(i.provider_trade_no, pr.transaction_id) AS provider_trade_no,
         i.local_amount, i.provider_amount, i.provider_fee_milli_fen::text AS provider_fee_milli_fen, i.provider_fee_decimals, i.local_status,
         i.provider_status, i.outcome, i.action, i.detail, i.resolved_at, i.resolved_by, i.resolution_note
       FROM reconciliation_items i JOIN reconciliation_runs r ON r.id = i.run_id
         LEFT JOIN payment_records pr ON pr.payment_no = i.payment_no LEFT JOIN orders o ON o.id = pr.order_id
       WHERE r.bill_date BETWEEN $1 AND $2 AND ($3::text IS NULL OR r.provider = $3)
       ORDER BY r.bill_date, r.provider, i.kind, i.reference
       LIMIT $4`,
      [from, to, provider ?? null, limit],
    );
  }
}
