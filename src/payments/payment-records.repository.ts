import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { preparedQueryIn } from '../database/prepared-query';
import type { PaymentChannel } from './payment-channel';
import type { ProviderName } from './provider-name';
import { PaymentRecord } from './payment-record.entity';
import { STILL_PENDING } from '../database/row-conditions';

/** trade_state of a pending attempt kept for its last query, the provider not knowing its trade yet. */
export const AWAITING_LAST_QUERY = 'TRADE_NOT_EXIST';

/** An attempt about to be recorded: its out_trade_no and timing. */
export interface PlannedAttempt {
  paymentNo: string;
  qrExpireAt: Date;
  /** When the order expires: never before qrExpireAt. */
  orderExpireAt: Date;
  nextQueryAt: Date;
}

/** An attempt to record for an order. */
export interface NewAttempt extends PlannedAttempt {
  orderId: string;
  method: ProviderName;
  amountFen: number;
  channel: PaymentChannel;
}

/** A deduction under a contract, to record before it is asked for. */
export interface NewDeduction {
  orderId: string;
  paymentNo: string;
  method: ProviderName;
  amountFen: number;
  contractId: string;
  firstQueryAt: Date;
}

/** A deduction attempt as recorded. */
export interface DeductionAttempt {
  orderId: string;
  method: ProviderName;
  contractId: string;
  status: string;
}

/** An attempt a job claimed. */
export interface ClaimedAttempt {
  id: string;
  paymentNo: string;
  method: ProviderName;
  orderId: string;
}

interface ClaimedRow {
  id: string;
  payment_no: string;
  payment_method: ProviderName;
  order_id: string;
}

/**
 * payment_records: the payment attempts, written only here (settlement's statements excepted, in
 * SettlementRepository, which is payments' too).
 *
 * next_query_at is when any instance may next call the provider about a pending attempt (NULL: no
 * query is scheduled). A job claims a batch in one short statement, `FOR UPDATE SKIP LOCKED` plus
 * moving next_query_at to the end of a lease, so other instances skip those rows while the provider
 * is called outside any transaction. A crashed instance's claim lapses when the lease ends. The
 * query schedule never runs past the attempt's QR expiry, so expiry is never held up by a far-off query.
 */
@Injectable()
export class PaymentRecordsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records a pending attempt on the caller's transaction (the order's creation, or a fresh code under the order's lock). */
  async insert(m: EntityManager, a: NewAttempt): Promise<void> {
    await preparedQueryIn(
      m,
      'attempt-insert',
      `INSERT INTO payment_records (order_id, payment_no, payment_method, amount, status, qr_code_expire_at, order_expire_at, next_query_at, channel)
       VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)`,
      [a.orderId, a.paymentNo, a.method, a.amountFen, a.qrExpireAt, a.orderExpireAt, a.nextQueryAt, a.channel],
    );
  }

  /** How many attempts the order has had, the first included. */
  countOf(m: EntityManager, orderId: string): Promise<number> {
    return m.getRepository(PaymentRecord).countBy({ orderId });
  }

  /** The order's attempts still open (pending). */
  openOf(orderId: string): Promise<PaymentRecord[]> {
    return this.dataSource.getRepository(PaymentRecord).find({ where: { orderId, status: 'pending' } });
  }

  /** Which of these orders still have an attempt open (pending). */
  async withOpenAttempts(orderIds: string[]): Promise<Set<string>> {
    if (orderIds.length === 0) return new Set();
    const rows = (await this.dataSource.query(
      `SELECT DISTINCT order_id FROM payment_records WHERE order_id = ANY($1) AND status = 'pending'`,
      [orderIds],
    )) as { order_id: string }[];
    return new Set(rows.map((r) => r.order_id));
  }

  /** What the provider gave for the attempt: its QR code and the client's parameters. */
  async recordOpened(db: EntityManager, paymentNo: string, qrCodeUrl: string | null, payParams: Record<string, string>): Promise<void> {
    await preparedQueryIn(
      db,
      'attempt-opened',
      `UPDATE payment_records SET qr_code_url = $2, pay_params = $3, updated_at = now() WHERE payment_no = $1`,
      [paymentNo, qrCodeUrl, payParams],
    );
  }

  /** The provider could not open the attempt: no query is scheduled for it. */
  async markFailed(m: EntityManager, paymentNo: string): Promise<void> {
    await m.query(
      `UPDATE payment_records SET status = 'failed', next_query_at = NULL, updated_at = now() WHERE payment_no = $1 AND ${STILL_PENDING}`,
      [paymentNo],
    );
  }

  /** Deletes a failed attempt (one the provider refused: it created nothing there to query or close). */
  async removeFailed(m: EntityManager, paymentNo: string): Promise<void> {
    await m.query(`DELETE FROM payment_records WHERE payment_no = $1 AND status = 'failed'`, [paymentNo]);
  }

  /**
   * Closes the pending attempts of an order that is ending. An attempt whose trade the provider did
   * not know yet stays pending for its last query (PaymentsService.closeAttempt): a code scanned
   * after the cancel is still found and honoured.
   */
  async closeOpenOf(m: EntityManager, orderId: string): Promise<void> {
    // A deduction in flight cannot be closed at the provider: it stays pending for its query, and
    // if it was paid, the settlement finds the order ended and returns the money.
    await m.query(
      `UPDATE payment_records SET status = 'closed', next_query_at = NULL, updated_at = now()
        WHERE order_id = $1 AND ${STILL_PENDING} AND contract_id IS NULL AND trade_state IS DISTINCT FROM $2`,
      [orderId, AWAITING_LAST_QUERY],
    );
  }

  /** The order an attempt belongs to (the return page then asks orders how to show it). */
  async orderIdOf(paymentNo: string): Promise<string | undefined> {
    const [row] = (await this.dataSource.query(`SELECT order_id FROM payment_records WHERE payment_no = $1`, [paymentNo])) as {
      order_id: string;
    }[];
    return row?.order_id;
  }

  /** When the attempt's QR code stops being payable, or null for an unknown attempt. */
  async qrExpiry(paymentNo: string): Promise<Date | null> {
    const [row] = (await this.dataSource.query(`SELECT qr_code_expire_at FROM payment_records WHERE payment_no = $1`, [paymentNo])) as {
      qr_code_expire_at: Date | null;
    }[];
    return row?.qr_code_expire_at ?? null;
  }

  /**
   * Keeps a pending attempt whose trade the provider does not know yet, due again at `at` for its
   * last query; the expiry jobs claim it then (their claims wait for next_query_at).
   */
  async deferLastQuery(paymentNo: string, at: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET next_query_at = $2, trade_state = $3, updated_at = now() WHERE payment_no = $1 AND ${STILL_PENDING}`,
      [paymentNo, at, AWAITING_LAST_QUERY],
    );
  }

  /** Pending attempts due for an active query, within their retry budget and QR validity (deductions have their own query). */
  claimDueQueries(now: Date, limit: number, retryMax: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(
      `r.status = 'pending' AND r.contract_id IS NULL AND r.next_query_at <= $1 AND r.query_count < $4 AND r.qr_code_expire_at > $1`,
      'r.next_query_at',
      [now, limit, leaseUntil, retryMax],
    );
  }

  /** Pending attempts whose QR code expired while their order has not (past it, claimAttemptsOfExpiredOrders takes them). */
  claimExpiredQrCodes(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(
      `r.status = 'pending' AND r.contract_id IS NULL AND r.qr_code_expire_at <= $1 AND (r.next_query_at IS NULL OR r.next_query_at <= $1)
       AND r.order_expire_at > $1`,
      'r.qr_code_expire_at',
      [now, limit, leaseUntil],
    );
  }

  /**
   * Pending attempts of orders past expire_at: closed at the provider before the order expires (an
   * attempt left open on an order another attempt paid is closed the same way). A deduction has no
   * close: it is left to its query (claimDueDeductions).
   */
  claimAttemptsOfExpiredOrders(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(
      // An attempt without its order's expiry (recorded by an instance still running the code from
      // before the column, during a rolling deploy) is closed here once its code expired.
      `r.status = 'pending' AND r.contract_id IS NULL AND (r.next_query_at IS NULL OR r.next_query_at <= $1)
       AND (r.order_expire_at <= $1 OR (r.order_expire_at IS NULL AND r.qr_code_expire_at <= $1))`,
      'r.order_expire_at NULLS FIRST',
      [now, limit, leaseUntil],
    );
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
    await this.dataSource.query(`UPDATE payment_records SET next_query_at = $2, updated_at = now() WHERE id = $1 AND ${STILL_PENDING}`, [
      attemptId,
      now,
    ]);
  }

  /**
   * Records a deduction asked for under a contract, pending, due for its first query at `firstQueryAt`.
   * Nothing is recorded (false) while another deduction of the order is in flight
   * (UQ_payment_records_one_open_deduction) or once an attempt has paid the order: a second runner, a
   * repeated call or a retry racing a query never deducts twice for one order.
   */
  async insertDeduction(d: NewDeduction): Promise<boolean> {
    // The order's attempts are locked first: a settlement of one of them in flight is waited for and
    // its outcome seen (a plain NOT EXISTS would read the attempt as pending from before that commit,
    // and the unique index no longer holds a row that has just become paid). An INSERT answers its
    // RETURNING rows (an UPDATE would answer [rows, count]).
    const rows = (await this.dataSource.query(
      `WITH prior AS (SELECT status FROM payment_records WHERE order_id = $1 FOR UPDATE)
       INSERT INTO payment_records (order_id, payment_no, payment_method, amount, status, next_query_at, contract_id)
       SELECT $1, $2, $3, $4, 'pending', $5, $6
        WHERE NOT EXISTS (SELECT 1 FROM prior WHERE status IN ('success', 'refunded'))
       ON CONFLICT (order_id) WHERE contract_id IS NOT NULL AND status = 'pending' DO NOTHING
       RETURNING id`,
      [d.orderId, d.paymentNo, d.method, d.amountFen, d.firstQueryAt, d.contractId],
    )) as unknown[];
    return rows.length > 0;
  }

  /** A deduction attempt by its payment number (null: no deduction of ours has it). */
  async deductionOf(paymentNo: string): Promise<DeductionAttempt | null> {
    const [row] = (await this.dataSource.query(
      `SELECT order_id, payment_method, contract_id, status FROM payment_records WHERE payment_no = $1 AND contract_id IS NOT NULL`,
      [paymentNo],
    )) as { order_id: string; payment_method: ProviderName; contract_id: string; status: string }[];
    return row ? { orderId: row.order_id, method: row.payment_method, contractId: row.contract_id, status: row.status } : null;
  }

  /** The order's deduction in flight, if any: its payment number. */
  async openDeductionOf(orderId: string): Promise<string | null> {
    const [row] = (await this.dataSource.query(
      `SELECT payment_no FROM payment_records WHERE order_id = $1 AND contract_id IS NOT NULL AND status = 'pending'`,
      [orderId],
    )) as { payment_no: string }[];
    return row?.payment_no ?? null;
  }

  /** The order's latest deduction: its status and the provider's state or reason. */
  async lastDeductionOf(orderId: string): Promise<{ payment_no: string; status: string; trade_state: string | null } | null> {
    const [row] = (await this.dataSource.query(
      `SELECT payment_no, status, trade_state FROM payment_records WHERE order_id = $1 AND contract_id IS NOT NULL
        ORDER BY created_at DESC LIMIT 1`,
      [orderId],
    )) as { payment_no: string; status: string; trade_state: string | null }[];
    return row ?? null;
  }

  /** A pending deduction the provider declined (final for this number): failed, with the provider's reason. */
  async markDeductionFailed(paymentNo: string, reason: string, payload: Record<string, unknown>): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `UPDATE payment_records SET status = 'failed', trade_state = $2, notify_payload = $3, next_query_at = NULL, updated_at = now()
        WHERE payment_no = $1 AND contract_id IS NOT NULL AND ${STILL_PENDING} RETURNING id`,
      [paymentNo, reason.slice(0, 32), JSON.stringify(payload)],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /**
   * A deduction still without a result: its state as last heard, and its next query at 1, 2, 4 … minutes
   * after it was asked for, at most six hours apart (a deduction is never given up: its money may have moved).
   */
  async recordDeductionQuery(paymentNo: string, tradeState: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE payment_records SET query_count = query_count + 1, trade_state = $2, updated_at = now(),
         next_query_at = now() + make_interval(mins => LEAST(power(2, LEAST(query_count + 1, 9))::int, 360))
       WHERE payment_no = $1 AND contract_id IS NOT NULL AND ${STILL_PENDING}`,
      [paymentNo, tradeState.slice(0, 32)],
    );
  }

  /** Pending deductions due for their query (claimed with a lease, as the checkout queries are). */
  claimDueDeductions(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.claim(`r.status = 'pending' AND r.contract_id IS NOT NULL AND r.next_query_at <= $1`, 'r.next_query_at', [
      now,
      limit,
      leaseUntil,
    ]);
  }

  /** $1 now, $2 limit, $3 lease end; further parameters belong to `where`. */
  private async claim(where: string, orderBy: string, params: unknown[]): Promise<ClaimedAttempt[]> {
    const rows = (await this.dataSource.query(
      `WITH due AS (
         SELECT r.id FROM payment_records r
         WHERE ${where} ORDER BY ${orderBy} LIMIT $2 FOR UPDATE OF r SKIP LOCKED)
       UPDATE payment_records r SET next_query_at = $3, updated_at = now() FROM due WHERE r.id = due.id
       RETURNING r.id, r.payment_no, r.payment_method, r.order_id`,
      params,
    )) as [ClaimedRow[], number];
    return rows[0].map((r) => ({ id: r.id, paymentNo: r.payment_no, method: r.payment_method, orderId: r.order_id }));
  }
}
