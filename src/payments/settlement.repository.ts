import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQuery, preparedQueryIn } from '../database/prepared-query';
import type { ProviderName } from './provider-name';

/** An attempt as the unlocked first read sees it: enough to answer a duplicate or a mismatch. */
export interface AttemptGlance {
  order_no: string;
  record_status: string;
  record_amount: number;
}

/** The attempt and its order, locked for settlement. */
export interface LockedAttempt {
  record_id: string;
  record_status: string;
  record_amount: number;
  order_id: string;
  order_no: string;
  user_id: string; /** The order's status (orders' vocabulary: payments only tells pending from the rest). */
  order_status: string;
  order_paid: boolean;
  product_id: number;
  is_upgrade: boolean;
  amount: number;
  created_at: Date;
  payment_method: ProviderName;
  upgrade_from_level: number | null;
  upgrade_ms: string | null;
  /** The order's plan as it is now: what its grant brings. */
  plan_level: number;
  plan_days: number;
}

export interface PaidAttempt {
  paymentNo: string;
  tradeState: string;
  transactionId: string | null;
  payload: Record<string, unknown>;
  paidAt: Date;
}

/**
 * The statements that settle or close a payment attempt. In the settling transaction the order is
 * marked paid by its owner (PaidOrders, implemented in orders) and the membership it grants by the
 * membership module (MembershipService.grant).
 */
@Injectable()
export class SettlementRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** No lock, no transaction: `success` is final, so a storm of resends ends here without queueing on a row lock. */
  async glance(paymentNo: string): Promise<AttemptGlance | undefined> {
    const [row] = await preparedQuery<AttemptGlance>(
      this.dataSource,
      'settle-glance',
      `SELECT o.order_no, r.status AS record_status, r.amount AS record_amount
         FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE r.payment_no = $1`,
      [paymentNo],
    );
    return row;
  }

  /**
   * Locks the attempt and its order (in that statement's order, the same for every settlement),
   * reads the level and days of the order's plan with them, and records the attempt as paid when
   * it is not yet and the reported amount is its own: one round trip where a lock and an update
   * were two. The row returned is the attempt as it was before this statement, so the caller tells
   * a first payment from a duplicate or a wrong amount by it (those leave the attempt untouched);
   * the order is PaidOrders', marked in the same transaction.
   */
  async lockAndMarkPaid(m: EntityManager, paid: PaidAttempt, amountFen: number | null): Promise<LockedAttempt | undefined> {
    const [row] = await preparedQueryIn<LockedAttempt>(
      m,
      'settle-lock-mark-paid',
      `WITH locked AS (
         SELECT r.id AS record_id, r.status AS record_status, r.amount AS record_amount,
                o.id AS order_id, o.order_no, o.user_id, o.status AS order_status, o.paid_at IS NOT NULL AS order_paid,
                o.product_id, o.is_upgrade, o.amount, o.created_at, o.payment_method, o.upgrade_from_level, o.upgrade_ms,
                pl.level AS plan_level, pl.duration_days AS plan_days
           FROM payment_records r JOIN orders o ON o.id = r.order_id JOIN membership_plans pl ON pl.id = o.product_id
          WHERE r.payment_no = $1
            FOR UPDATE OF o, r),
       marked AS (
         UPDATE payment_records r SET status = 'success', trade_state = $3, transaction_id = $4, notify_payload = $5,
                paid_at = $6, next_query_at = NULL, updated_at = now()
           FROM locked l
          WHERE r.id = l.record_id AND l.record_status <> 'success' AND l.record_amount = $2::integer)
       SELECT * FROM locked`,
      [paid.paymentNo, amountFen, paid.tradeState, paid.transactionId, JSON.stringify(paid.payload), paid.paidAt],
    );
    return row;
  }

  /** A pending attempt the provider closed (or that we closed there). */
  async markClosed(paymentNo: string, tradeState: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET status = 'closed', trade_state = $2, next_query_at = NULL, updated_at = now()
       WHERE payment_no = $1 AND status = 'pending'`,
      [paymentNo, tradeState],
    );
  }
}
