import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { MembershipService } from '../membership/membership.service';
import { MetricsService } from '../metrics/metrics.service';
import { appendOrderEvent, CommittedOrderEvent, ORDER_EVENTS_COMMITTED, OrderPaidPayload } from '../outbox/order-events';
import { DOUBLE_PAYMENT, DoublePayment } from './double-payment';
import { NotificationRejected, PaymentEvent, stateEvent } from './payment-provider';
import type { ProviderName } from './provider-name';
import { ProviderUnavailableError } from '../common/errors/domain-error';
import { PaidOrders } from './paid-orders';
import { PaymentRecordsRepository } from './payment-records.repository';
import { ProviderRegistry } from './provider-registry';
import { SettlementRepository } from './settlement.repository';

/** What told us about a payment: its notification, the active query, or the daily bill (reconciliation, confirmed by a query). */
export type PaymentSource = 'notification' | 'query' | 'reconciliation';

/** What a provider's event did: settled the order now, found it settled already, paid it twice, or only recorded a state. */
export type ApplyResult = { result: 'settled' | 'duplicate' | 'double_payment'; orderNo: string } | { result: 'closed' | 'ignored' };

const unknownAttempt = () => new NotificationRejected('UNKNOWN_ORDER', 'no payment attempt has this out_trade_no');
const amountMismatch = () => new NotificationRejected('AMOUNT_MISMATCH', 'the amount differs from the payment attempt');

type Settled =
  | { outcome: 'unknown' | 'duplicate' | 'amount_mismatch' | 'double_payment' }
  | {
      outcome: 'settled';
      previousStatus: string;
      userId: string;
      method: ProviderName;
      createdAt: Date;
      paidAt: Date;
      event: CommittedOrderEvent;
      shortfallFen: number;
    };

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
    private readonly settlements: SettlementRepository,
    private readonly membership: MembershipService,
    private readonly registry: ProviderRegistry,
    private readonly events: EventEmitter2,
    private readonly metrics: MetricsService,
    private readonly records: PaymentRecordsRepository,
    private readonly paidOrders: PaidOrders,
  ) {}

  async applyEvent(event: PaymentEvent, source: PaymentSource): Promise<ApplyResult> {
    if (event.outcome === 'paid') return this.settle(event, source);
    if (event.outcome === 'closed') {
      await this.settlements.markClosed(event.paymentNo, event.tradeState);
      return { result: 'closed' };
    }
    return { result: 'ignored' };
  }

  /**
   * Settles a paid attempt. An unlocked read answers duplicates (`success` is final) and refuses a
   * wrong amount without taking a lock. Otherwise one transaction locks the attempt and its order
   * and records the attempt as paid in the same statement (unless it already was, or the amount
   * differs), re-checks them, asks the membership module to grant the order (it rebuilds the
   * member's ledger under the member's lock, so concurrent settlements of one member commute), marks
   * the order paid, and appends order.paid to the outbox: all of it commits, or none of it.
   */
  async settle(event: PaymentEvent, source: PaymentSource): Promise<ApplyResult> {
    const seen = await this.settlements.glance(event.paymentNo);
    if (!seen) throw unknownAttempt();
    if (seen.record_status === 'success') return { result: 'duplicate', orderNo: seen.order_no };
    if (event.amountFen !== seen.record_amount) {
      this.logger.error(
        `order ${seen.order_no} payment ${event.paymentNo}: ${source} reports ${event.amountFen} fen, the attempt is ${seen.record_amount} fen; not settled`,
      );
      throw amountMismatch();
    }
    const done = await this.dataSource.transaction(async (m): Promise<Settled> => {
      const paidAt = event.paidAt ?? new Date();
      const paid = {
        paymentNo: event.paymentNo,
        tradeState: event.tradeState,
        transactionId: event.providerTradeNo,
        payload: event.payload,
        paidAt,
      };
      // The attempt as it was: recorded as paid by this statement unless it was already, or the amount differs.
      const t = await this.settlements.lockAndMarkPaid(m, paid, event.amountFen);
      if (!t) return { outcome: 'unknown' };
      if (t.record_status === 'success') return { outcome: 'duplicate' };
      if (t.record_amount !== event.amountFen) return { outcome: 'amount_mismatch' };
      if (t.order_paid) return { outcome: 'double_payment' };
      const granted = await this.membership.grant(m, {
        orderId: t.order_id,
        orderNo: t.order_no,
        userId: t.user_id,
        planId: t.product_id,
        amountFen: t.amount,
        planLevel: t.plan_level,
        planDays: t.plan_days,
        isUpgrade: t.is_upgrade,
        createdAt: t.created_at,
        upgradeFromLevel: t.upgrade_from_level,
        upgradeMs: t.upgrade_ms === null ? null : Number(t.upgrade_ms),
      });
      await this.paidOrders.markPaid(m, {
        orderId: t.order_id,
        paymentNo: event.paymentNo,
        transactionId: event.providerTradeNo,
        paidAt,
        upgradeShortfall: t.is_upgrade ? granted.shortfallFen : null,
      });
      const payload: OrderPaidPayload = {
        order_no: t.order_no,
        amount: t.amount,
        currency: 'CNY',
        paid_at: paidAt.toISOString(),
        membership: granted.membership,
      };
      const committed = await appendOrderEvent(m, t.order_id, t.user_id, t.order_no, 'order.paid', { ...payload });
      return {
        outcome: 'settled',
        previousStatus: t.order_status,
        userId: t.user_id,
        method: t.payment_method,
        createdAt: t.created_at,
        paidAt,
        event: committed,
        shortfallFen: granted.shortfallFen,
      };
    });
    switch (done.outcome) {
      case 'unknown':
        throw unknownAttempt();
      case 'amount_mismatch':
        throw amountMismatch();
      case 'duplicate':
        return { result: 'duplicate', orderNo: seen.order_no };
      case 'double_payment':
        // Two attempts of one order both paid (an old QR paid before its close took effect).
        this.logger.error(`order ${seen.order_no}: payment ${event.paymentNo} paid an order already paid by another attempt; refunding it`);
        this.events.emit(DOUBLE_PAYMENT, { paymentNo: event.paymentNo, orderNo: seen.order_no } satisfies DoublePayment);
        return { result: 'double_payment', orderNo: seen.order_no };
      case 'settled':
        break;
    }
    if (done.previousStatus !== 'pending')
      this.logger.warn(`order ${seen.order_no}: payment ${event.paymentNo} arrived after the order was ${done.previousStatus}; honoured`);
    this.metrics.ordersPaid.inc({ method: done.method, source });
    this.metrics.timeToPaid.observe({ method: done.method }, Math.max(0, (done.paidAt.getTime() - done.createdAt.getTime()) / 1000));
    // Announced only after commit: a payment that rolled back is never pushed.
    this.events.emit(ORDER_EVENTS_COMMITTED, [done.event]);
    return { result: 'settled', orderNo: seen.order_no };
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
        throw new ProviderUnavailableError(
          `${method} answered the close of ${paymentNo} with "paid", but its query says ${event.tradeState}; retried later`,
        );
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
        throw new ProviderUnavailableError(
          `${method} trade ${paymentNo} appeared (${last.tradeState}) after its close; closed on the next run`,
        );
      }
    }
    await this.applyEvent(stateEvent(method, paymentNo, 'closed', 'CLOSED'), 'query');
    return 'closed';
  }
}
