import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { DOUBLE_PAYMENT, DoublePayment } from './double-payment';
import { NotificationRejected, PaymentEvent, stateEvent } from './payment-provider';
import type { ProviderName } from './provider-name';
import { ProviderUnavailableError } from '../common/errors/domain-error';
import { Fulfilled, PaidOrders, SettlingOrder } from './paid-orders';
import { PaymentRecordsRepository } from './payment-records.repository';
import { ProviderRegistry } from './provider-registry';
import { SettlementRepository } from './settlement.repository';

/**
 * What told us about a payment: its notification, the active query, the daily bill (reconciliation,
 * confirmed by a query), or the answer to a deduction we asked for under a contract.
 */
export type PaymentSource = 'notification' | 'query' | 'reconciliation' | 'deduction';

/** What a provider's event did: settled the order now, found it settled already, paid it twice, or only recorded a state. */
export type ApplyResult = { result: 'settled' | 'double_payment'; orderNo: string } | { result: 'duplicate' | 'closed' | 'ignored' };

const unknownAttempt = () => new NotificationRejected('UNKNOWN_ORDER', 'no payment attempt has this out_trade_no');
const amountMismatch = () => new NotificationRejected('AMOUNT_MISMATCH', 'the amount differs from the payment attempt');

type Settled =
  | { outcome: 'unknown' | 'duplicate' | 'amount_mismatch' }
  | { outcome: 'double_payment'; order: SettlingOrder }
  | { outcome: 'settled'; order: SettlingOrder; paidAt: Date; fulfilled: Fulfilled };

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
   * wrong amount without taking a lock. Otherwise one transaction locks the attempt's order (its
   * owner, orders, reads what the fulfilment needs with the lock), then records the attempt as paid
   * (unless it already was, or the amount differs) and re-checks it, and hands the payment to the
   * order's fulfilment (PaidOrders): all of it commits, or none of it. The order is locked before
   * the attempt on every path, so two settlements of one order queue instead of deadlocking.
   */
  async settle(event: PaymentEvent, source: PaymentSource): Promise<ApplyResult> {
    const seen = await this.settlements.glance(event.paymentNo);
    if (!seen) throw unknownAttempt();
    if (seen.record_status === 'success') return { result: 'duplicate' };
    if (event.amountFen !== seen.record_amount) {
      this.logger.error(
        `payment ${event.paymentNo}: ${source} reports ${event.amountFen} fen, the attempt is ${seen.record_amount} fen; not settled`,
      );
      throw amountMismatch();
    }
    const paidAt = event.paidAt ?? new Date();
    const done = await this.dataSource.transaction(async (m): Promise<Settled> => {
      const order = await this.paidOrders.lockForSettlement(m, seen.order_id);
      // The attempt as it was: recorded as paid by this statement unless it was already, or the amount differs.
      const t = await this.settlements.lockAndMarkPaid(
        m,
        { paymentNo: event.paymentNo, tradeState: event.tradeState, transactionId: event.providerTradeNo, payload: event.payload, paidAt },
        event.amountFen,
        order?.paid ?? false,
        order?.userId ?? null,
      );
      if (!t || !order) return { outcome: 'unknown' };
      if (t.record_status === 'success') return { outcome: 'duplicate' };
      if (t.record_amount !== event.amountFen) return { outcome: 'amount_mismatch' };
      if (order.paid) return { outcome: 'double_payment', order };
      const fulfilled = await this.paidOrders.fulfil(m, order, {
        paymentNo: event.paymentNo,
        transactionId: event.providerTradeNo,
        paidAt,
        memberLocked: t.member_locked,
      });
      return { outcome: 'settled', order, paidAt, fulfilled };
    });
    switch (done.outcome) {
      case 'unknown':
        throw unknownAttempt();
      case 'amount_mismatch':
        throw amountMismatch();
      case 'duplicate':
        return { result: 'duplicate' };
      case 'double_payment': {
        const orderNo = done.order.orderNo;
        // Two attempts of one order both paid (an old QR paid before its close took effect), or a
        // deduction that succeeded after its renewal order ended with its contract.
        this.logger.error(`order ${orderNo}: payment ${event.paymentNo} paid an order already paid or no longer payable; refunding it`);
        this.events.emit(DOUBLE_PAYMENT, { paymentNo: event.paymentNo, orderNo } satisfies DoublePayment);
        return { result: 'double_payment', orderNo };
      }
      case 'settled':
        break;
    }
    const { order } = done;
    if (order.status !== 'pending')
      this.logger.warn(`order ${order.orderNo}: payment ${event.paymentNo} arrived after the order was ${order.status}; honoured`);
    this.metrics.ordersPaid.inc({ method: order.paymentMethod, source });
    this.metrics.timeToPaid.observe(
      { method: order.paymentMethod },
      Math.max(0, (done.paidAt.getTime() - order.createdAt.getTime()) / 1000),
    );
    done.fulfilled.announce();
    return { result: 'settled', orderNo: order.orderNo };
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
