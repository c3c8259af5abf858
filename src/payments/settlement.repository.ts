import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQuery, preparedQueryIn } from '../database/prepared-query';
import { STILL_PENDING } from '../database/row-conditions';

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
  /** This statement took the member's lock (a first payment, when a member was named). */
  member_locked: boolean;
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
   *
   * When this statement records the order's first payment, it also takes the member's lock for
   * `memberId` (the per-member advisory lock MembershipRepository.lockMember and appendOrderEvent
   * take, by the same key: change it in the three places together), after the attempt's row lock,
   * the order every settlement takes them in (order, attempt, member): the fulfilment that follows
   * has its lock without a round trip of its own (`member_locked`). Its later statements are
   * statements of their own, so their snapshots see every grant committed before the lock.
   */
  async lockAndMarkPaid(
    m: EntityManager,
    paid: PaidAttempt,
    amountFen: number | null,
    doublePayment: boolean,
    memberId: string | null = null,
  ): Promise<LockedAttempt | undefined> {
    const [row] = await preparedQueryIn<LockedAttempt>(
      m,
      'settle-lock-mark-paid-member',
      `WITH locked AS (
         SELECT id AS record_id, status AS record_status, amount AS record_amount
           FROM payment_records WHERE payment_no = $1 FOR UPDATE),
       marked AS (
         UPDATE payment_records r SET status = 'success', trade_state = $3, transaction_id = $4, notify_payload = $5,
                paid_at = $6, double_payment = $7, next_query_at = NULL, updated_at = now()
           FROM locked l
          WHERE r.id = l.record_id AND l.record_status <> 'success' AND l.record_amount = $2::integer)
       SELECT l.*,
              CASE WHEN $8::varchar IS NOT NULL AND NOT $7 AND l.record_status <> 'success' AND l.record_amount = $2::integer
                   THEN pg_advisory_xact_lock(hashtextextended($8, 0)) IS NOT NULL ELSE false END AS member_locked
         FROM locked l`,
      [paid.paymentNo, amountFen, paid.tradeState, paid.transactionId, JSON.stringify(paid.payload), paid.paidAt, doublePayment, memberId],
    );
    return row;
  }

  /** A pending attempt the provider closed (or that we closed there). */
  async markClosed(paymentNo: string, tradeState: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET status = 'closed', trade_state = $2, next_query_at = NULL, updated_at = now()
       WHERE payment_no = $1 AND ${STILL_PENDING}`,
      [paymentNo, tradeState],
    );
  }
}
