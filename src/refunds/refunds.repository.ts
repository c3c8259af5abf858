import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import type { RefundEvent } from '../payments/payment-provider';
import { sqlList } from '../database/sql-list';
import type { ProviderName } from '../payments/provider-name';
import { Refund } from './refund.entity';
import { HOLDING_STATUSES, type RefundKind, type RefundMembershipEffect, type RefundStatus, UNFINISHED_STATUSES } from './refund-status';

/** The statuses as the statements list them. */
const HOLDING = sqlList(HOLDING_STATUSES);
const UNFINISHED = sqlList(UNFINISHED_STATUSES);

export interface NewRefund {
  refundNo: string;
  orderId: string;
  paymentNo: string;
  paymentMethod: ProviderName;
  amountFen: number;
  kind: RefundKind;
  reason: string;
  requestedBy: string;
  /** What a support refund does to the membership (others take nothing: `withdraw` is the column's default). */
  membership?: RefundMembershipEffect;
  /** The job leaves it alone until then (the request is calling the provider meanwhile). */
  nextQueryAt: Date;
}

/** A paid attempt that is not its order's payment and has no duplicate-payment refund yet. */
export interface UnrefundedDoublePayment {
  order_id: string;
  payment_no: string;
  payment_method: ProviderName;
  amount: number;
}

/** Thrown when refunds_within_paid refuses a refund (more than was paid, or an attempt not paid). */
export class RefundOverPaid extends Error {}

/** Refunds whose provider state is unknown or unfinished get looked at again: 1, 2, 4 … 60 minutes apart. */
export const MAX_QUERY_INTERVAL_MINUTES = 60;

/**
 * Every query on the refunds table (the refunds module owns it). Services hold the rules.
 */
@Injectable()
export class RefundsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(fn);
  }

  /** Money already held against an attempt by refunds that are not over (processing, success, abnormal). */
  async heldFen(m: EntityManager, paymentNo: string): Promise<number> {
    const [row] = (await m.query(
      `SELECT COALESCE(sum(amount), 0)::int AS held FROM refunds WHERE payment_no = $1 AND status IN (${HOLDING})`,
      [paymentNo],
    )) as { held: number }[];
    return row.held;
  }

  /** Inserts a processing refund; refunds_within_paid refuses it (RefundOverPaid) if it would exceed what was paid. */
  async insert(m: EntityManager, r: NewRefund): Promise<Refund> {
    try {
      const [row] = (await m.query(
        `INSERT INTO refunds (refund_no, order_id, payment_no, payment_method, amount, status, kind, reason, requested_by, next_query_at, membership)
         VALUES ($1, $2, $3, $4, $5, 'processing', $6, $7, $8, $9, $10) RETURNING *`,
        [
          r.refundNo,
          r.orderId,
          r.paymentNo,
          r.paymentMethod,
          r.amountFen,
          r.kind,
          r.reason,
          r.requestedBy,
          r.nextQueryAt,
          r.membership ?? 'withdraw',
        ],
      )) as Record<string, unknown>[];
      return toRefund(row);
    } catch (e) {
      throw isWithinPaidViolation(e) ? new RefundOverPaid((e as Error).message) : e;
    }
  }

  /**
   * The refund of a double payment, once per attempt (UQ_refunds_duplicate_payment): null when one
   * exists already.
   */
  async insertDuplicatePaymentRefund(m: EntityManager, r: NewRefund): Promise<Refund | null> {
    const [row] = (await m.query(
      `INSERT INTO refunds (refund_no, order_id, payment_no, payment_method, amount, status, kind, reason, requested_by, next_query_at)
       VALUES ($1, $2, $3, $4, $5, 'processing', 'duplicate_payment', $6, $7, $8)
       ON CONFLICT (payment_no) WHERE kind = 'duplicate_payment' DO NOTHING RETURNING *`,
      [r.refundNo, r.orderId, r.paymentNo, r.paymentMethod, r.amountFen, r.reason, r.requestedBy, r.nextQueryAt],
    )) as Record<string, unknown>[];
    return row ? toRefund(row) : null;
  }

  /** What the attempt was paid (every WeChat Pay refund repeats the original total). */
  async paidFen(paymentNo: string): Promise<number> {
    const [row] = (await this.dataSource.query(`SELECT amount FROM payment_records WHERE payment_no = $1`, [paymentNo])) as {
      amount: number;
    }[];
    return row.amount;
  }

  /** The attempt, when it is a paid attempt of an order that another attempt paid. */
  async doublePaymentOf(paymentNo: string): Promise<UnrefundedDoublePayment | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT order_id, payment_no, payment_method, amount FROM payment_records
        WHERE payment_no = $1 AND status = 'success' AND double_payment`,
      [paymentNo],
    )) as UnrefundedDoublePayment[];
    return row;
  }

  /** Paid attempts that paid an order another attempt had paid, with no refund recorded for them. */
  async unrefundedDoublePayments(olderThan: Date, limit: number): Promise<UnrefundedDoublePayment[]> {
    return (await this.dataSource.query(
      `SELECT r.order_id, r.payment_no, r.payment_method, r.amount
         FROM payment_records r
        WHERE r.status = 'success' AND r.double_payment AND r.paid_at < $1
          AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.payment_no = r.payment_no AND f.kind = 'duplicate_payment')
        ORDER BY r.paid_at LIMIT $2`,
      [olderThan, limit],
    )) as UnrefundedDoublePayment[];
  }

  async lockByNo(m: EntityManager, refundNo: string): Promise<Refund | undefined> {
    const [row] = (await m.query(`SELECT * FROM refunds WHERE refund_no = $1 FOR UPDATE`, [refundNo])) as Record<string, unknown>[];
    return row ? toRefund(row) : undefined;
  }

  async findByNo(refundNo: string): Promise<Refund | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM refunds WHERE refund_no = $1`, [refundNo])) as Record<string, unknown>[];
    return row ? toRefund(row) : undefined;
  }

  async listForOrder(orderId: string): Promise<Refund[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM refunds WHERE order_id = $1 ORDER BY created_at, refund_no`, [
      orderId,
    ])) as Record<string, unknown>[];
    return rows.map(toRefund);
  }

  /** Newest first; cursor = the refund_no of the last row of the previous page. */
  async list(filter: { status?: RefundStatus; limit: number; startingAfter?: Refund }): Promise<Refund[]> {
    const params: unknown[] = [filter.limit + 1];
    const where: string[] = [];
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.startingAfter) {
      where.push(
        `(created_at, refund_no) < ($${params.push(filter.startingAfter.createdAt)}, $${params.push(filter.startingAfter.refundNo)})`,
      );
    }
    const rows = (await this.dataSource.query(
      `SELECT * FROM refunds ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, refund_no DESC LIMIT $1`,
      params,
    )) as Record<string, unknown>[];
    return rows.map(toRefund);
  }

  /** Records what the provider said, and the status it leads to (nextQueryAt null: nothing more to ask). */
  async applyState(
    m: EntityManager,
    id: string,
    status: RefundStatus,
    event: Partial<RefundEvent> & { failureReason?: string | null },
    nextQueryAt: Date | null,
  ): Promise<void> {
    await m.query(
      `UPDATE refunds SET status = $2, provider_state = COALESCE($3, provider_state), provider_refund_id = COALESCE($4, provider_refund_id),
              succeeded_at = COALESCE($5, succeeded_at), failure_reason = COALESCE($6, failure_reason), next_query_at = $7, updated_at = now()
        WHERE id = $1`,
      [
        id,
        status,
        event.providerState?.slice(0, 32) ?? null,
        event.providerRefundId ?? null,
        event.succeededAt ?? null,
        event.failureReason?.slice(0, 256) ?? null,
        nextQueryAt,
      ],
    );
  }

  /** One more refund request is about to be sent (same refund_no). */
  async countProviderCall(refundNo: string): Promise<void> {
    await this.dataSource.query(`UPDATE refunds SET provider_calls = provider_calls + 1, updated_at = now() WHERE refund_no = $1`, [
      refundNo,
    ]);
  }

  /**
   * Claims unfinished refunds due for a look at the provider, as the payment jobs claim attempts:
   * FOR UPDATE SKIP LOCKED plus next_query_at moved to the lease end, in one short statement, so
   * instances never work on the same refund and a crashed instance's claim lapses.
   */
  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<Refund[]> {
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM refunds WHERE status IN (${UNFINISHED}) AND next_query_at <= $1
         ORDER BY next_query_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE refunds f SET next_query_at = $3, updated_at = now() FROM due WHERE f.id = due.id RETURNING f.*`,
      [now, limit, leaseUntil],
    )) as [Record<string, unknown>[], number];
    return rows.map(toRefund);
  }

  /** Counts a look at the provider and schedules the next 1, 2, 4 … 60 minutes later (only while unfinished). */
  async scheduleNext(refundNo: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE refunds SET query_count = query_count + 1, updated_at = now(),
              next_query_at = CASE WHEN status IN (${UNFINISHED})
                THEN $2::timestamptz + make_interval(mins => LEAST(power(2, LEAST(query_count, 10))::int, $3)) END
        WHERE refund_no = $1`,
      [refundNo, now, MAX_QUERY_INTERVAL_MINUTES],
    );
  }
}

function isWithinPaidViolation(e: unknown): boolean {
  const driver =
    e instanceof QueryFailedError ? (e as QueryFailedError & { driverError?: { constraint?: string } }).driverError : undefined;
  return driver?.constraint === 'CHK_refunds_within_paid';
}

function toRefund(row: Record<string, unknown>): Refund {
  return Object.assign(new Refund(), {
    id: row.id,
    refundNo: row.refund_no,
    orderId: row.order_id,
    paymentNo: row.payment_no,
    paymentMethod: row.payment_method,
    amountFen: row.amount,
    status: row.status,
    kind: row.kind,
    reason: row.reason,
    membership: row.membership,
    requestedBy: row.requested_by,
    providerRefundId: row.provider_refund_id,
    providerState: row.provider_state,
    failureReason: row.failure_reason,
    providerCalls: row.provider_calls,
    queryCount: row.query_count,
    nextQueryAt: row.next_query_at,
    succeededAt: row.succeeded_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}
