import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { movableTo } from './order-lifecycle';
import type { OrderStatus, PaymentMethod } from './order-status';

/** The statuses a succeeded refund may find its order in. */
const REFUNDABLE = movableTo('partially_refunded', 'refunded');

export interface RefundableOrder {
  id: string;
  order_no: string;
  user_id: string;
  status: OrderStatus;
  amount: number;
  refunded_amount: number;
  payment_method: PaymentMethod;
  /** The attempt that paid the order (null while unpaid). */
  payment_no: string | null;
}

/**
 * The orders module's writes for refunds, on the refunds module's transaction: the order row is
 * written only here and in OrdersService (one owner per table).
 *
 * An order row is locked FOR NO KEY UPDATE, never FOR UPDATE: a rebuild of the member's ledger
 * inserts periods whose foreign key takes FOR KEY SHARE on each of the member's orders while it
 * holds the member's lock, and FOR UPDATE would make it wait for a transaction that holds an order
 * and waits for that same member's lock (a refund's success does): a deadlock. Nothing here
 * changes an order's key, so the weaker lock serialises the same writers.
 */
@Injectable()
export class OrderRefundsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The order, its row locked to the end of the caller's transaction (refunds of one order queue here). */
  async lockByOrderNo(m: EntityManager, orderNo: string): Promise<RefundableOrder | undefined> {
    const rows = (await m.query(
      `SELECT id, order_no, user_id, status, amount, refunded_amount, payment_method, payment_no
         FROM orders WHERE order_no = $1 FOR NO KEY UPDATE`,
      [orderNo],
    )) as RefundableOrder[];
    return rows[0];
  }

  async findByOrderNo(orderNo: string): Promise<RefundableOrder | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT id, order_no, user_id, status, amount, refunded_amount, payment_method, payment_no FROM orders WHERE order_no = $1`,
      [orderNo],
    )) as RefundableOrder[];
    return rows[0];
  }

  async orderNosOf(orderIds: string[]): Promise<Map<string, string>> {
    if (!orderIds.length) return new Map();
    const rows = (await this.dataSource.query(`SELECT id, order_no FROM orders WHERE id = ANY($1)`, [orderIds])) as {
      id: string;
      order_no: string;
    }[];
    return new Map(rows.map((r) => [r.id, r.order_no]));
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Adds fen to an upgrade's shortfall (the order is locked by the caller). */
  async addUpgradeShortfall(m: EntityManager, orderId: string, fen: number): Promise<void> {
    await m.query(`UPDATE orders SET upgrade_shortfall = COALESCE(upgrade_shortfall, 0) + $2, updated_at = now() WHERE id = $1`, [
      orderId,
      fen,
    ]);
  }

  /**
   * Marks the shortfall not yet being refunded as being refunded now, as much of it as `leftFen`
   * allows (the rest can never be returned: the payment is refunded already); returns the fen to refund.
   */
  async claimShortfall(m: EntityManager, orderId: string, leftFen: number): Promise<number> {
    const [rows] = (await m.query(
      `WITH before AS (SELECT COALESCE(upgrade_shortfall, 0) - upgrade_shortfall_refunding AS owed FROM orders WHERE id = $1)
       UPDATE orders SET upgrade_shortfall_refunding = COALESCE(upgrade_shortfall, 0), updated_at = now()
        WHERE id = $1 AND COALESCE(upgrade_shortfall, 0) > upgrade_shortfall_refunding
       RETURNING LEAST((SELECT owed FROM before), $2::int) AS owed`,
      [orderId, Math.max(0, leftFen)],
    )) as [{ owed: number }[], number];
    return rows[0]?.owed ?? 0;
  }

  /** Paid upgrade orders whose shortfall is not (all) being refunded yet. */
  async owedShortfall(limit: number): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `SELECT id FROM orders WHERE upgrade_shortfall > upgrade_shortfall_refunding AND status = ANY($2) ORDER BY paid_at LIMIT $1`,
      [limit, REFUNDABLE],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async lockById(m: EntityManager, orderId: string): Promise<RefundableOrder | undefined> {
    const rows = (await m.query(
      `SELECT id, order_no, user_id, status, amount, refunded_amount, payment_method, payment_no
         FROM orders WHERE id = $1 FOR NO KEY UPDATE`,
      [orderId],
    )) as RefundableOrder[];
    return rows[0];
  }

  /**
   * Adds a succeeded refund of the order's own payment: `refunded` once all of it is back,
   * `partially_refunded` before. The CHECK on refunded_amount refuses more than the amount.
   */
  async addRefunded(m: EntityManager, orderId: string, amountFen: number): Promise<RefundableOrder> {
    const [rows] = (await m.query(
      `UPDATE orders SET refunded_amount = refunded_amount + $2,
              status = CASE WHEN refunded_amount + $2 >= amount THEN 'refunded' ELSE 'partially_refunded' END,
              updated_at = now()
        WHERE id = $1 AND status = ANY($3)
        RETURNING id, order_no, user_id, status, amount, refunded_amount, payment_method, payment_no`,
      [orderId, amountFen, REFUNDABLE],
    )) as [RefundableOrder[], number];
    if (!rows[0]) throw new Error(`order ${orderId} is not paid or partially refunded: the refund cannot be added`);
    return rows[0];
  }
}
