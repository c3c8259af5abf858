import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { preparedQuery } from '../database/prepared-query';
import { MembershipService } from '../membership/membership.service';
import { MetricsService } from '../metrics/metrics.service';
import { CommittedOrderEvent, ORDER_EVENTS_COMMITTED, OrderPaidPayload } from '../orders/order-events';
import type { OrderStatus } from '../orders/order-status';
import { NotificationRejected, PaymentEvent, ProviderName, stateEvent } from './payment-provider';
import { ProviderUnavailableError } from '../common/errors/domain-error';
import { PaymentRecordsRepository } from './payment-records.repository';
import { ProviderRegistry } from './provider-registry';

export type PaymentSource = 'notification' | 'query';

/** What a provider's event did: settled the order now, found it settled already, paid it twice, or only recorded a state. */
export type ApplyResult =
  | { result: 'settled' | 'duplicate' | 'double_payment'; orderNo: string }
  | { result: 'closed' | 'ignored' };

const unknownAttempt = () => new NotificationRejected('UNKNOWN_ORDER', 'no payment attempt has this out_trade_no');
const amountMismatch = () => new NotificationRejected('AMOUNT_MISMATCH', 'the amount differs from the payment attempt');

interface AttemptState {
  order_no: string; user_id: string; is_upgrade: boolean; amount: number;
  created_at: Date; payment_method: ProviderName; record_status: string; record_amount: number;
  plan_level: number; plan_days: number; member_level: number | null; member_expires_at: Date | null;
}

/** A row of settle_payment_attempt (migration 1764057600005). */
interface SettleOutcome {
  outcome: 'unknown' | 'duplicate' | 'amount_mismatch' | 'stale' | 'double_payment' | 'settled';
  previous_status: OrderStatus | null; event_id: string | null; event_created_at: Date | null;
}

/**
 * Reads and decisions before giving up (a 500, so the provider retries). A round is only lost to
 * another of the member's orders committing its grant, which happens once per order, so a
 * settlement needs at most one round more than the member's orders being paid at that moment
 * (six at once lost five rounds in test/payments/settlement.e2e-spec.ts). The cap is a guard
 * against a bug, not a limit that concurrency should reach.
 */
const SETTLE_ROUNDS = 50;

/**
 * How long after an Alipay QR code's expiry its last query comes: Alipay's clock and ours may
 * differ, and a trade is only created by a scan, so only once the expiry has surely passed there
 * can "no such trade" be taken as final.
 */
export const LAST_QUERY_DELAY_MS = 2 * 60_000;

/**
 * Owns what happens when a provider says an attempt was paid or closed. Notifications and the
 * active query both come through applyEvent, so a payment settles through one code path.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger('Payments');

  constructor(
    private readonly dataSource: DataSource,
    private readonly membership: MembershipService,
    private readonly registry: ProviderRegistry,
    private readonly events: EventEmitter2,
    private readonly metrics: MetricsService,
    private readonly records: PaymentRecordsRepository,
  ) {}

  async applyEvent(event: PaymentEvent, source: PaymentSource): Promise<ApplyResult> {
    if (event.outcome === 'paid') return this.settle(event, source);
    if (event.outcome === 'closed') {
      await this.dataSource.query(
        `UPDATE payment_records SET status = 'closed', trade_state = $2, next_query_at = NULL, updated_at = now()
         WHERE payment_no = $1 AND status = 'pending'`, [event.paymentNo, event.tradeState]);
      return { result: 'closed' };
    }
    return { result: 'ignored' };
  }

  /**
   * Settles a paid attempt. A plain read (no lock, no transaction) gathers the attempt, its order,
   * the plan and the member's current membership: a duplicate ends there (`success` is final, so a
   * storm of resends never queues on a row lock). Otherwise the grant is decided here, by the
   * membership rules, and settle_payment_attempt applies it in one statement — under the order and
   * attempt row locks, re-checking that the attempt is still unpaid and the membership still the one
   * decided on (else 'stale', nothing written, and we read again). The attempt, the order, the grant
   * row (unique per order) and the outbox event commit together or not at all.
   */
  async settle(event: PaymentEvent, source: PaymentSource): Promise<ApplyResult> {
    for (let round = 1; ; round++) {
      const state = await this.readAttempt(event.paymentNo);
      if (!state) throw unknownAttempt();
      if (state.record_status === 'success') return { result: 'duplicate', orderNo: state.order_no };
      if (event.amountFen !== state.record_amount) {
        this.logger.error(`order ${state.order_no} payment ${event.paymentNo}: ${source} reports ${event.amountFen} fen, the attempt is ${state.record_amount} fen; not settled`);
        throw amountMismatch();
      }
      const now = new Date();
      const paidAt = event.paidAt ?? now;
      const current = { level: state.member_level ?? 0, expiresAt: state.member_expires_at ?? now };
      const next = this.membership.decideGrant(current, { level: state.plan_level, durationDays: state.plan_days }, state.is_upgrade, now);
      const payload: OrderPaidPayload = {
        order_no: state.order_no, amount: state.amount, currency: 'CNY', paid_at: paidAt.toISOString(),
        membership: { level: next.level, expires_at: next.expiresAt.toISOString() },
      };
      const [applied] = await preparedQuery<SettleOutcome>(this.dataSource, 'settle-payment-attempt',
        'SELECT * FROM settle_payment_attempt($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
        [event.paymentNo, event.amountFen, event.tradeState, event.providerTradeNo, JSON.stringify(event.payload), paidAt,
          current.level, state.member_expires_at, next.level, next.expiresAt, next.startedAt, JSON.stringify(payload)],
      );
      switch (applied.outcome) {
        case 'unknown': throw unknownAttempt();
        case 'amount_mismatch': throw amountMismatch();
        case 'duplicate': return { result: 'duplicate', orderNo: state.order_no };
        case 'double_payment':
          // Two attempts of one order both paid (an old QR paid before its close took effect).
          this.logger.error(`order ${state.order_no}: payment ${event.paymentNo} paid an order already paid by another attempt; refund it`);
          return { result: 'double_payment', orderNo: state.order_no };
        case 'stale':
          // Another order of this member settled between our read and our write: decide again.
          this.metrics.settleRetries.inc();
          if (round < SETTLE_ROUNDS) continue;
          throw new Error(`order ${state.order_no}: membership kept changing during ${SETTLE_ROUNDS} settle rounds`);
        case 'settled':
          break;
      }
      if (next.note) this.logger.warn(`order ${state.order_no}: ${next.note}`);
      if (applied.previous_status !== 'pending') this.logger.warn(`order ${state.order_no}: payment ${event.paymentNo} arrived after the order was ${applied.previous_status}; honoured`);
      this.metrics.ordersPaid.inc({ method: state.payment_method, source });
      this.metrics.timeToPaid.observe({ method: state.payment_method }, Math.max(0, (paidAt.getTime() - state.created_at.getTime()) / 1000));
      // Announced only after commit: a payment that rolled back is never pushed.
      this.events.emit(ORDER_EVENTS_COMMITTED, [{
        id: String(applied.event_id), type: 'order.paid', userId: state.user_id, orderNo: state.order_no,
        payload: { ...payload }, createdAt: applied.event_created_at!,
      } satisfies CommittedOrderEvent]);
      return { result: 'settled', orderNo: state.order_no };
    }
  }

  /**
   * Closes an attempt at its provider. When the buyer paid first, the payment is settled instead
   * (through the same path as a notification) and 'paid' is returned. A close answered "paid"
   * that the follow-up query does not confirm throws: retried later, never recorded as closed.
   * A trade the provider does not know yet (Alipay before the scan) may still be scanned until its
   * QR code expires there: the attempt stays pending for one last query after that ('deferred'),
   * which the expiry jobs make by calling this again.
   */
  async closeAttempt(method: ProviderName, paymentNo: string, now = new Date()): Promise<'closed' | 'paid' | 'deferred'> {
    const provider = this.registry.get(method);
    const closed = await provider.close(paymentNo);
    if (closed === 'paid') {
      const event = await provider.query(paymentNo);
      if (event.outcome !== 'paid') {
        throw new ProviderUnavailableError(`${method} answered the close of ${paymentNo} with "paid", but its query says ${event.tradeState}; retried later`);
      }
      await this.applyEvent(event, 'query');
      return 'paid';
    }
    if (closed === 'not_found') {
      const qrExpiry = await this.records.qrExpiry(paymentNo);
      const lastQueryAt = new Date((qrExpiry ?? now).getTime() + LAST_QUERY_DELAY_MS);
      if (now.getTime() < lastQueryAt.getTime()) {
        await this.records.deferLastQuery(paymentNo, lastQueryAt);
        return 'deferred';
      }
      const last = await provider.query(paymentNo);
      if (last.outcome === 'paid') {
        await this.applyEvent(last, 'query');
        return 'paid';
      }
      if (last.outcome === 'pending') {
        // Scanned just before its expiry: the trade exists now, and the next close reaches it.
        throw new ProviderUnavailableError(`${method} trade ${paymentNo} appeared (${last.tradeState}) after its close; closed on the next run`);
      }
    }
    await this.applyEvent(stateEvent(method, paymentNo, 'closed', 'CLOSED'), 'query');
    return 'closed';
  }

  /** The attempt with its order, plan and the member's membership, as of now (no lock). */
  private async readAttempt(paymentNo: string): Promise<AttemptState | undefined> {
    const [row] = await preparedQuery<AttemptState>(this.dataSource, 'settle-read-attempt',
      `SELECT o.order_no, o.user_id, o.is_upgrade, o.amount, o.created_at, o.payment_method,
              r.status AS record_status, r.amount AS record_amount,
              p.level AS plan_level, p.duration_days AS plan_days, m.level AS member_level, m.expires_at AS member_expires_at
         FROM payment_records r
         JOIN orders o ON o.id = r.order_id
         JOIN membership_plans p ON p.id = o.product_id
         LEFT JOIN user_memberships m ON m.user_id = o.user_id
        WHERE r.payment_no = $1`, [paymentNo],
    );
    return row;
  }
}
