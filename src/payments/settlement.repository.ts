import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQuery, preparedQueryIn } from '../database/prepared-query';

/** An attempt as the unlocked first read sees it: enough to answer a duplicate or a mismatch. */
export interface AttemptGlance {
  order_id: string;
  record_status: string;
  record_amount: number;
}

/** The attempt, locked for settlement, as it was before this settlement touched it. */
export interface LockedAttempt {
  record_id: string;
  record_status: string;
  record_amount: number;
}

export interface PaidAttempt {
  paymentNo: string;
  tradeState: string;
  transactionId: string | null;
  payload: Record<string, unknown>;
  paidAt: Date;
}

/**
 * The statements that settle or close a payment attempt: payment_records only. In the settling
 * transaction the order is locked and fulfilled by its owner (PaidOrders, implemented in orders).
 */
@Injectable()
export class SettlementRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** No lock, no transaction: `success` is final, so a storm of resends ends here without queueing on a row lock. */
  async glance(paymentNo: string): Promise<AttemptGlance | undefined> {
    const [row] = await preparedQuery<AttemptGlance>(
      this.dataSource,
      'settle-glance',
      `SELECT order_id, status AS record_status, amount AS record_amount FROM payment_records WHERE payment_no = $1`,
      [paymentNo],
    );
    return row;
  }

  /**
   * Locks the attempt and records it as paid when it is not yet and the reported amount is its own:
   * one round trip where a lock and an update were two. `doublePayment` says its order was paid by
   * another attempt already (kept on the attempt, for the refund that returns it). The row returned
   * is the attempt as it was before this statement, so the caller tells a first payment from a
   * duplicate or a wrong amount by it (those leave the attempt untouched).
   */
  async lockAndMarkPaid(
    m: EntityManager,
    paid: PaidAttempt,
    amountFen: number | null,
    doublePayment: boolean,
  ): Promise<LockedAttempt | undefined> {
    const [row] = await preparedQueryIn<LockedAttempt>(
      m,
      'settle-lock-mark-paid',
      `WITH locked AS (
         SELECT id AS record_id, status AS record_status, amount AS record_amount
           FROM payment_records WHERE payment_no = $1 FOR UPDATE),
       marked AS (
         UPDATE payment_records r SET status = 'success', trade_state = $3, transaction_id = $4, notify_payload = $5,
                paid_at = $6, double_payment = $7, next_query_at = NULL, updated_at = now()
           FROM locked l
          WHERE r.id = l.record_id AND l.record_status <> 'success' AND l.record_amount = $2::integer)
       SELECT * FROM locked`,
      [paid.paymentNo, amountFen, paid.tradeState, paid.transactionId, JSON.stringify(paid.payload), paid.paidAt, doublePayment],
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
