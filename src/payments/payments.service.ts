import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, EntityManager } from 'typeorm';
import { GrantResult, MembershipService } from '../membership/membership.service';
import { MetricsService } from '../metrics/metrics.service';
import { appendOrderEvent, CommittedOrderEvent, ORDER_EVENTS_COMMITTED, OrderPaidPayload } from '../orders/order-events';
import type { OrderStatus } from '../orders/order-status';
import { NotificationRejected, PaymentEvent, ProviderName, stateEvent } from './payment-provider';
import { ProviderRegistry } from './provider-registry';

export type PaymentSource = 'notification' | 'query';

export interface SettledOrder {
  orderId: string;
  orderNo: string;
  userId: string;
  amountFen: number;
  paidAt: Date;
  createdAt: Date;
  paymentMethod: ProviderName;
}

export type ApplyResult =
  | { result: 'settled'; order: SettledOrder; grant: GrantResult; late: boolean }
  | { result: 'duplicate'; orderNo: string }
  | { result: 'double_payment'; orderNo: string }
  | { result: 'closed' | 'ignored' };

interface LockedOrder {
  id: string; order_no: string; user_id: string; status: OrderStatus; product_id: number;
  is_upgrade: boolean; amount: number; created_at: Date; payment_method: ProviderName;
  record_id: string; record_status: string; record_amount: number;
}

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
   * Settles a paid attempt in one transaction: the order row and then the attempt row are
   * locked, so concurrent notifications, the active query and the expiry job queue up here; the
   * first one records the payment, marks the order paid and grants the membership, the rest find
   * the attempt already `success` and change nothing. membership_grants.order_id is unique as the
   * last line of defence.
   */
  async settle(event: PaymentEvent, source: PaymentSource): Promise<ApplyResult> {
    // Fast path: `success` is final, so a plain read answers a duplicate without a transaction
    // or a lock (a storm of resends for one order must not queue on its row lock).
    const [seen] = await this.dataSource.query(
      `SELECT r.status, o.order_no FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE r.payment_no = $1`, [event.paymentNo],
    ) as { status: string; order_no: string }[];
    if (!seen) throw new NotificationRejected('UNKNOWN_ORDER', 'no payment attempt has this out_trade_no');
    if (seen.status === 'success') return { result: 'duplicate', orderNo: seen.order_no };

    const result = await this.dataSource.transaction(async (m): Promise<ApplyResult & { announce?: CommittedOrderEvent }> => {
      const order = await this.lockOrderAndAttempt(m, event.paymentNo);
      if (order.record_status === 'success') return { result: 'duplicate', orderNo: order.order_no };
      if (event.amountFen !== order.record_amount) {
        this.logger.error(`order ${order.order_no} payment ${event.paymentNo}: ${source} reports ${event.amountFen} fen, the attempt is ${order.record_amount} fen; not settled`);
        throw new NotificationRejected('AMOUNT_MISMATCH', 'the amount differs from the payment attempt');
      }
      const now = new Date();
      const paidAt = event.paidAt ?? now;
      const doublePayment = order.status === 'paid';
      // The attempt, and (unless another attempt already paid it) the order, in one statement.
      await m.query(
        `WITH attempt AS (
           UPDATE payment_records SET status = 'success', trade_state = $3, transaction_id = $4, notify_payload = $5,
             paid_at = $6, next_query_at = NULL, updated_at = now() WHERE id = $1 AND status <> 'success' RETURNING id)
         UPDATE orders SET status = 'paid', paid_at = $6, transaction_id = $4, payment_no = $7, updated_at = now()
          WHERE id = $2 AND status <> 'paid' AND EXISTS (SELECT 1 FROM attempt)`,
        [order.record_id, order.id, event.tradeState, event.providerTradeNo, JSON.stringify(event.payload), paidAt, event.paymentNo],
      );
      if (doublePayment) {
        // Two attempts of one order both paid (an old QR paid before its close took effect).
        this.logger.error(`order ${order.order_no}: payment ${event.paymentNo} paid an order already paid by another attempt; refund it`);
        return { result: 'double_payment', orderNo: order.order_no };
      }
      const late = order.status !== 'pending';
      if (late) this.logger.warn(`order ${order.order_no}: payment ${event.paymentNo} arrived after the order was ${order.status}; honoured`);
      const grant = await this.membership.grant(m, {
        orderId: order.id, orderNo: order.order_no, userId: order.user_id, productId: order.product_id, isUpgrade: order.is_upgrade,
      }, now);
      const payload: OrderPaidPayload = {
        order_no: order.order_no, amount: order.amount, currency: 'CNY', paid_at: paidAt.toISOString(),
        membership: { level: grant.level, expires_at: grant.expiresAt.toISOString() },
      };
      const announce = await appendOrderEvent(m, order.id, order.user_id, order.order_no, 'order.paid', { ...payload });
      return {
        result: 'settled', late, grant, announce,
        order: {
          orderId: order.id, orderNo: order.order_no, userId: order.user_id, amountFen: order.amount,
          paidAt, createdAt: order.created_at, paymentMethod: order.payment_method,
        },
      };
    });
    if (result.result === 'settled') {
      this.metrics.ordersPaid.inc({ method: result.order.paymentMethod, source });
      this.metrics.timeToPaid.observe({ method: result.order.paymentMethod }, Math.max(0, (result.order.paidAt.getTime() - result.order.createdAt.getTime()) / 1000));
    }
    // Announced only after commit: a payment that rolled back is never pushed.
    if ('announce' in result && result.announce) {
      this.events.emit(ORDER_EVENTS_COMMITTED, [result.announce]);
      delete result.announce;
    }
    return result;
  }

  /**
   * Closes an attempt at its provider. When the buyer paid first, the payment is settled instead
   * (through the same path as a notification) and 'paid' is returned.
   */
  async closeAttempt(method: ProviderName, paymentNo: string): Promise<'closed' | 'paid'> {
    const provider = this.registry.get(method);
    const closed = await provider.close(paymentNo);
    if (closed === 'paid') {
      const event = await provider.query(paymentNo);
      if (event.outcome === 'paid') {
        await this.applyEvent(event, 'query');
        return 'paid';
      }
    }
    await this.applyEvent(stateEvent(method, paymentNo, 'closed', 'CLOSED'), 'query');
    return 'closed';
  }

  /** Locks the order, then the attempt (rows lock in FROM order), in one round trip. */
  private async lockOrderAndAttempt(m: EntityManager, paymentNo: string): Promise<LockedOrder> {
    const [order] = await m.query(
      `SELECT o.id, o.order_no, o.user_id, o.status, o.product_id, o.is_upgrade, o.amount, o.created_at, o.payment_method,
              r.id AS record_id, r.status AS record_status, r.amount AS record_amount
         FROM orders o JOIN payment_records r ON r.order_id = o.id
        WHERE r.payment_no = $1 FOR UPDATE OF o, r`, [paymentNo],
    ) as LockedOrder[];
    if (!order) throw new NotificationRejected('UNKNOWN_ORDER', 'no payment attempt has this out_trade_no');
    return order;
  }
}
