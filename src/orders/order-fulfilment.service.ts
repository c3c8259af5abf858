import { Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import { MembershipService } from '../membership/membership.service';
import {
  appendOrderEvent,
  CommittedOrderEvent,
  committedEvent,
  orderEventAppend,
  ORDER_EVENTS_COMMITTED,
  OrderPaidPayload,
  OrderRefundedPayload,
} from '../outbox/order-events';
import { Fulfilled, OrderPayment, PaidOrders, type ReturnedOrder } from '../payments/paid-orders';
import { OrderContracts } from './order-contracts';
import { OrderFulfilmentRepository, OrderToFulfil } from './order-fulfilment.repository';
import { OrderRefundsRepository } from './order-refunds.repository';
import { UPGRADE_SHORTFALL, UpgradeShortfall } from './upgrade-shortfall';

/** A refund that succeeded at its provider, as the refunds module recorded it. */
export interface SucceededRefund {
  orderId: string;
  /** The attempt it returned money of. */
  paymentNo: string;
  amountFen: number;
  /**
   * support and upgrade_shortfall refunds change the order; a double payment's (duplicate_payment)
   * returns a payment the order never counted and leaves it as it is.
   */
  kind: string;
  /** A support refund takes back the days its fen bought (`withdraw`) unless support keeps them (`keep`). */
  membership: 'withdraw' | 'keep';
}

/** An upgrade's shortfall that a refund may now be started for. */
export interface ShortfallToRefund {
  orderId: string;
  orderNo: string;
  paymentNo: string;
  paymentMethod: OrderToFulfil['paymentMethod'];
  owedFen: number;
}

const NOTHING: Fulfilled = { announce: () => undefined };

/**
 * What happens because an order was paid or refunded, in one place: the order's row, the
 * membership it grants or loses, and the event that tells the member. Settlement (payments) and
 * refunds call in on their own transactions; nothing here talks to a provider.
 */
@Injectable()
export class OrderFulfilment extends PaidOrders<OrderToFulfil> {
  private readonly logger = new Logger('Orders');

  constructor(
    private readonly repo: OrderFulfilmentRepository,
    private readonly refunds: OrderRefundsRepository,
    private readonly membership: MembershipService,
    private readonly events: EventEmitter2,
    @Optional() private readonly contracts?: OrderContracts,
  ) {
    super();
  }

  lockForSettlement(m: EntityManager, orderId: string): Promise<OrderToFulfil | undefined> {
    return this.repo.lockForSettlement(m, orderId);
  }

  returned(orderId: string): Promise<ReturnedOrder | undefined> {
    return this.repo.returned(orderId);
  }

  /**
   * The order's first payment: the membership grants it (rebuilding the member's ledger under the
   * member's lock, so concurrent settlements of one member commute), the order is marked paid with
   * what an upgrade could not convert, and order.paid is appended: all on the settling transaction.
   */
  async fulfil(m: EntityManager, order: OrderToFulfil, payment: OrderPayment): Promise<Fulfilled> {
    const granted = await this.membership.grantWithWrite(m, {
      orderId: order.orderId,
      orderNo: order.orderNo,
      userId: order.userId,
      planId: order.productId,
      amountFen: order.amount,
      planLevel: order.planLevel,
      planDays: order.planDays,
      isUpgrade: order.isUpgrade,
      createdAt: order.createdAt,
      upgradeQuotedAt: order.upgradeQuotedAt,
      upgradeFromLevel: order.upgradeFromLevel,
      upgradeMs: order.upgradeMs,
      memberLocked: payment.memberLocked,
    });
    const short = granted.shortfallFen > 0 ? [order.orderId] : [];
    const payload: OrderPaidPayload = {
      order_no: order.orderNo,
      amount: order.amount,
      currency: 'CNY',
      paid_at: payment.paidAt.toISOString(),
      membership: granted.membership,
    };
    // The ledger's write (unless the grant sent it already), the order's and the outbox row: one statement.
    const row = await this.repo.markPaidWith(
      m,
      order.orderId,
      { ...payment, upgradeShortfall: order.isUpgrade ? granted.shortfallFen : null },
      granted.ledgerWrite ? [granted.ledgerWrite] : [],
      orderEventAppend(order.orderId, order.userId, 'order.paid', { ...payload }),
    );
    const event = {
      ...committedEvent(row, order.userId, order.orderNo, 'order.paid', { ...payload }),
      order: { id: order.orderId, source: order.source },
    };
    const announced = this.announcing(event, short);
    // A paid upgrade moves the member above the level a contract of theirs renews: that contract ends
    // (at its provider, so after commit). An upgrade bought with auto-renewal ended it when created.
    if (!order.isUpgrade || order.autoRenew || !this.contracts) return announced;
    const contracts = this.contracts;
    return {
      announce: () => {
        announced.announce();
        contracts.endForUpgrade(order.userId, order.orderId, new Date()).catch((e: unknown) => {
          this.logger.error(`order ${order.orderNo}: ending the member's auto-renewal after the upgrade failed (${(e as Error).message})`);
        });
      },
    };
  }

  /**
   * A refund of the order's own payment, succeeded: the order's refunded amount and status follow,
   * a full refund takes the order's days away, and order.refunded is appended, on the refund's
   * transaction. A refund of another payment of the order (a double payment) changes nothing here.
   */
  async fulfilRefund(m: EntityManager, refund: SucceededRefund, now: Date): Promise<Fulfilled> {
    const order = await this.refunds.lockById(m, refund.orderId);
    if (!order || order.payment_no !== refund.paymentNo || refund.kind === 'duplicate_payment') return NOTHING;
    const after = await this.refunds.addRefunded(m, order.id, refund.amountFen);
    // The days a support refund's fen bought go with it (all of them once the order is wholly refunded);
    // a shortfall's were never there, and a concession keeps them. An upgrade whose whole price came
    // back as its shortfall converts less than a fen's worth: its grant goes, as a full refund's does.
    const takesDays =
      (refund.kind === 'support' && refund.membership === 'withdraw') ||
      (refund.kind === 'upgrade_shortfall' && after.status === 'refunded');
    const withdrawn = takesDays
      ? await this.membership.withdraw(m, order.id, after.status === 'refunded' ? order.amount : refund.amountFen, order.amount, now)
      : null;
    const membership = withdrawn?.membership ?? (await this.membership.snapshot(m, order.user_id, now));
    const payload: OrderRefundedPayload = {
      order_no: order.order_no,
      amount: refund.amountFen,
      refunded_total: after.refunded_amount,
      status: after.status as OrderRefundedPayload['status'],
      membership,
    };
    const event = await appendOrderEvent(m, order.id, order.user_id, order.order_no, 'order.refunded', { ...payload });
    return this.announcing(event, withdrawn?.shortUpgrades ?? []);
  }

  /**
   * Prices an upgrade's time that was not there to convert (after a refund took days it was
   * converting) and adds it to the order's upgrade_shortfall, once: the time is taken back from the
   * grant in the same transaction. The order is locked before the member, as settlement does.
   */
  async reckonShortfall(orderId: string): Promise<void> {
    await this.refunds.transaction(async (m) => {
      const order = await this.refunds.lockById(m, orderId);
      if (!order) return;
      const fen = await this.membership.takeUnconverted(m, orderId, order.order_no, order.amount);
      if (fen > 0) await this.refunds.addUpgradeShortfall(m, orderId, fen);
    });
  }

  /**
   * On the refunds module's transaction: the order's shortfall not yet being refunded (at most what
   * is left of its payment, `leftFen`), marked as being refunded now; null when nothing is owed.
   */
  async claimShortfallRefund(
    m: EntityManager,
    orderId: string,
    leftOf: (paymentNo: string) => Promise<number>,
  ): Promise<ShortfallToRefund | null> {
    const order = await this.refunds.lockById(m, orderId);
    if (!order?.payment_no) return null;
    const owed = await this.refunds.claimShortfall(m, orderId, await leftOf(order.payment_no));
    if (owed <= 0) return null;
    return { orderId, orderNo: order.order_no, paymentNo: order.payment_no, paymentMethod: order.payment_method, owedFen: owed };
  }

  /** Orders with an upgrade shortfall not yet being refunded. */
  ordersOwedShortfall(limit: number): Promise<string[]> {
    return this.refunds.owedShortfall(limit);
  }

  /** Upgrade orders whose grant has time neither converted nor taken back. */
  upgradesToReckon(limit: number): Promise<string[]> {
    return this.membership.upgradesWithUnconverted(limit);
  }

  /** Events are announced only after commit: a change that rolled back is never pushed. */
  private announcing(event: CommittedOrderEvent, shortUpgrades: string[] = []): Fulfilled {
    return {
      announce: () => {
        this.events.emit(ORDER_EVENTS_COMMITTED, [event]);
        for (const orderId of shortUpgrades) this.events.emit(UPGRADE_SHORTFALL, { orderId } satisfies UpgradeShortfall);
      },
    };
  }
}
