import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import { MembershipService } from '../membership/membership.service';
import {
  appendOrderEvent,
  CommittedOrderEvent,
  ORDER_EVENTS_COMMITTED,
  OrderPaidPayload,
  OrderRefundedPayload,
} from '../outbox/order-events';
import { Fulfilled, OrderPayment, PaidOrders } from '../payments/paid-orders';
import { OrderFulfilmentRepository, OrderToFulfil } from './order-fulfilment.repository';
import { OrderRefundsRepository } from './order-refunds.repository';

/** A refund that succeeded at its provider, as the refunds module recorded it. */
export interface SucceededRefund {
  orderId: string;
  /** The attempt it returned money of. */
  paymentNo: string;
  amountFen: number;
  /** Only a refund support asked for changes the order; a double payment's leaves it as it is. */
  kind: string;
}

const NOTHING: Fulfilled = { announce: () => undefined };

/**
 * What happens because an order was paid or refunded, in one place: the order's row, the
 * membership it grants or loses, and the event that tells the member. Settlement (payments) and
 * refunds call in on their own transactions; nothing here talks to a provider.
 */
@Injectable()
export class OrderFulfilment extends PaidOrders<OrderToFulfil> {
  constructor(
    private readonly repo: OrderFulfilmentRepository,
    private readonly refunds: OrderRefundsRepository,
    private readonly membership: MembershipService,
    private readonly events: EventEmitter2,
  ) {
    super();
  }

  lockForSettlement(m: EntityManager, orderId: string): Promise<OrderToFulfil | undefined> {
    return this.repo.lockForSettlement(m, orderId);
  }

  /**
   * The order's first payment: the membership grants it (rebuilding the member's ledger under the
   * member's lock, so concurrent settlements of one member commute), the order is marked paid with
   * what an upgrade could not convert, and order.paid is appended: all on the settling transaction.
   */
  async fulfil(m: EntityManager, order: OrderToFulfil, payment: OrderPayment): Promise<Fulfilled> {
    const granted = await this.membership.grant(m, {
      orderId: order.orderId,
      orderNo: order.orderNo,
      userId: order.userId,
      planId: order.productId,
      amountFen: order.amount,
      planLevel: order.planLevel,
      planDays: order.planDays,
      isUpgrade: order.isUpgrade,
      createdAt: order.createdAt,
      upgradeFromLevel: order.upgradeFromLevel,
      upgradeMs: order.upgradeMs,
    });
    await this.repo.markPaid(m, order.orderId, { ...payment, upgradeShortfall: order.isUpgrade ? granted.shortfallFen : null });
    const payload: OrderPaidPayload = {
      order_no: order.orderNo,
      amount: order.amount,
      currency: 'CNY',
      paid_at: payment.paidAt.toISOString(),
      membership: granted.membership,
    };
    const event = await appendOrderEvent(m, order.orderId, order.userId, order.orderNo, 'order.paid', { ...payload });
    return this.announcing(event);
  }

  /**
   * A refund of the order's own payment, succeeded: the order's refunded amount and status follow,
   * a full refund takes the order's days away, and order.refunded is appended, on the refund's
   * transaction. A refund of another payment of the order (a double payment) changes nothing here.
   */
  async fulfilRefund(m: EntityManager, refund: SucceededRefund, now: Date): Promise<Fulfilled> {
    const order = await this.refunds.lockById(m, refund.orderId);
    if (!order || order.payment_no !== refund.paymentNo || refund.kind !== 'support') return NOTHING;
    const after = await this.refunds.addRefunded(m, order.id, refund.amountFen);
    const membership =
      after.status === 'refunded'
        ? ((await this.membership.revokeOrder(m, order.id, now)) ?? (await this.membership.snapshot(m, order.user_id, now)))
        : await this.membership.snapshot(m, order.user_id, now);
    const payload: OrderRefundedPayload = {
      order_no: order.order_no,
      amount: refund.amountFen,
      refunded_total: after.refunded_amount,
      status: after.status as OrderRefundedPayload['status'],
      membership,
    };
    const event = await appendOrderEvent(m, order.id, order.user_id, order.order_no, 'order.refunded', { ...payload });
    return this.announcing(event);
  }

  /** Events are announced only after commit: a change that rolled back is never pushed. */
  private announcing(event: CommittedOrderEvent): Fulfilled {
    return { announce: () => void this.events.emit(ORDER_EVENTS_COMMITTED, [event]) };
  }
}
