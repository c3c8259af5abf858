import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import { MetricsService } from '../metrics/metrics.service';
import { OrderFulfilment } from '../orders/order-fulfilment.service';
import { OrderRefundsRepository } from '../orders/order-refunds.repository';
import { UPGRADE_SHORTFALL, UpgradeShortfall } from '../orders/upgrade-shortfall';
import { newRefundNo } from '../common/trade-numbers';
import { ORDER_NO_PATTERN } from '../orders/order-status';
import { DOUBLE_PAYMENT, DoublePayment } from '../payments/double-payment';
import { NotificationRejected, RefundEvent, RefundRefused } from '../payments/payment-provider';
import { providerLabel } from '../payments/provider-catalog';
import { NotificationRouter } from '../payments/notification-router';
import { ProviderRegistry } from '../payments/provider-registry';
import { CreateRefundDto } from './dto/create-refund.dto';
import type { Refund } from './refund.entity';
import { DUPLICATE_PAYMENT_REASON, RefundStatus, SYSTEM_REQUESTER, UPGRADE_SHORTFALL_REASON } from './refund-status';
import { toRefundView, RefundView } from './refund.view';
import { RefundOverPaid, RefundsRepository } from './refunds.repository';

/** Where a refund's news came from, for the logs. */
export type RefundSource = 'answer' | 'notification' | 'query';

/** What an event did: changed the refund, found it finished already, or said it is still under way. */
export type RefundApplyResult = 'applied' | 'duplicate' | 'unchanged';

const FINAL: readonly RefundStatus[] = ['success', 'failed', 'closed'];
/** The request path owns a new refund this long; after that the job may look at it (a crash mid-call). */
const FIRST_LOOK_MS = 60_000;

/**
 * Refunds, full and partial, of paid orders. The rules: a refund is recorded (holding its money
 * against what was paid, under the order's row lock, the database refusing anything more) before
 * any provider is called; the provider's answer, a notification or a query then moves it on, each
 * through applyEvent, in one transaction with what follows from it, which is the order's
 * fulfilment (OrderFulfilment.fulfilRefund: the order's refunded amount and status, the membership,
 * the order.refunded event). A provider call whose outcome is unknown
 * leaves the refund processing: the job asks again later and resends the same refund_no.
 */
@Injectable()
export class RefundsService implements OnModuleInit {
  private readonly logger = new Logger('Refunds');

  constructor(
    private readonly refunds: RefundsRepository,
    private readonly orders: OrderRefundsRepository,
    private readonly registry: ProviderRegistry,
    private readonly fulfilment: OrderFulfilment,
    private readonly metrics: MetricsService,
    private readonly router: NotificationRouter,
  ) {}

  /** Refund results that providers notify (WeChat Pay's REFUND.*) come through their payment callback URL. */
  onModuleInit(): void {
    this.router.handle('refund', (event) => this.applyEvent(event, 'notification'));
  }

  /** A support refund of an order's payment: all that is left unless `amount` says less. */
  async request(adminId: string, orderNo: string, dto: CreateRefundDto, now = new Date()): Promise<RefundView> {
    if (!ORDER_NO_PATTERN.test(orderNo)) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    const refund = await this.refunds.transaction(async (m) => {
      const order = await this.orders.lockByOrderNo(m, orderNo);
      if (!order) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
      // A fully refunded order was paid: what it lacks is money left, which is what the caller must hear
      // (a racing refund that lost to one for the whole amount sees it refunded already).
      if (order.status === 'refunded' && order.payment_no) {
        throw new ConflictError('REFUND_EXCEEDS_PAID', `Nothing is left to refund: the ${order.amount} fen paid were refunded`);
      }
      if ((order.status !== 'paid' && order.status !== 'partially_refunded') || !order.payment_no) {
        throw new ConflictError('ORDER_NOT_REFUNDABLE', `The order is ${order.status}: only a paid order can be refunded`);
      }
      this.registry.refunds(order.payment_method); // a provider off (400) or without refunds (409) before anything is written
      const left = order.amount - (await this.refunds.heldFen(m, order.payment_no));
      const amount = dto.amount ?? left;
      if (!Number.isSafeInteger(amount) || amount <= 0 || amount > left) {
        throw new ConflictError(
          'REFUND_EXCEEDS_PAID',
          left > 0
            ? `The amount must be a whole number of fen from 1 to ${left} (what is left of the ${order.amount} paid)`
            : `Nothing is left to refund: refunds already hold all ${order.amount} fen paid`,
        );
      }
      try {
        return await this.refunds.insert(m, {
          refundNo: newRefundNo(now),
          orderId: order.id,
          paymentNo: order.payment_no,
          paymentMethod: order.payment_method,
          amountFen: amount,
          kind: 'support',
          membership: dto.membership ?? 'withdraw',
          reason: dto.reason.trim(),
          requestedBy: adminId,
          nextQueryAt: new Date(now.getTime() + FIRST_LOOK_MS),
        });
      } catch (e) {
        if (e instanceof RefundOverPaid) throw new ConflictError('REFUND_EXCEEDS_PAID', 'Refunds would exceed what was paid');
        throw e;
      }
    });
    this.metrics.refunds.inc({ provider: refund.paymentMethod, status: 'processing' });
    this.logger.log(
      `refund_no=${refund.refundNo} order_no=${orderNo} payment_no=${refund.paymentNo} amount=${refund.amountFen} requested_by=${adminId} reason="${refund.reason}": requested`,
    );
    const sent = await this.submit(refund, orderNo);
    if (sent.status === 'failed') {
      throw new ConflictError('REFUND_REFUSED', `${providerLabel(refund.paymentMethod)} refused the refund: ${sent.failureReason}`);
    }
    return toRefundView(sent, orderNo);
  }

  async listForOrder(orderNo: string): Promise<RefundView[]> {
    const order = ORDER_NO_PATTERN.test(orderNo) ? await this.orders.findByOrderNo(orderNo) : undefined;
    if (!order) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    return (await this.refunds.listForOrder(order.id)).map((r) => toRefundView(r, order.order_no));
  }

  async list(filter: {
    status?: RefundStatus;
    limit?: number;
    startingAfter?: string;
  }): Promise<{ data: RefundView[]; has_more: boolean }> {
    const limit = filter.limit ?? 20;
    const cursor = filter.startingAfter ? await this.refunds.findByNo(filter.startingAfter) : undefined;
    if (filter.startingAfter && !cursor) throw new NotFoundError('NOT_FOUND', 'starting_after names no refund');
    const rows = await this.refunds.list({ status: filter.status, limit, startingAfter: cursor });
    const orderNos = await this.orders.orderNosOf([...new Set(rows.map((r) => r.orderId))]);
    return { data: rows.slice(0, limit).map((r) => toRefundView(r, orderNos.get(r.orderId) ?? '')), has_more: rows.length > limit };
  }

  /**
   * Sends the refund to its provider (the first time, or again with the same refund_no) and applies
   * the answer. A refusal marks it failed; an unknown outcome leaves it processing for the job.
   */
  async submit(refund: Refund, orderNo: string): Promise<Refund> {
    const provider = this.registry.refunds(refund.paymentMethod);
    await this.refunds.countProviderCall(refund.refundNo);
    let event: RefundEvent;
    try {
      event = await provider.refund({
        refundNo: refund.refundNo,
        paymentNo: refund.paymentNo,
        amountFen: refund.amountFen,
        totalFen: await this.refunds.paidFen(refund.paymentNo),
        reason: refund.reason,
      });
    } catch (e) {
      if (e instanceof RefundRefused) {
        await this.fail(refund, `${e.providerMessage} (${e.providerCode})`);
        this.logger.warn(
          `refund_no=${refund.refundNo} order_no=${orderNo} refused by ${refund.paymentMethod}: ${e.providerCode} ${e.providerMessage}`,
        );
        return (await this.refunds.findByNo(refund.refundNo))!;
      }
      this.logger.warn(
        `refund_no=${refund.refundNo} order_no=${orderNo} outcome unknown (${(e as Error).message}); queried later, sent again with the same number if the provider has none`,
      );
      return (await this.refunds.findByNo(refund.refundNo))!;
    }
    await this.applyEvent(event, 'answer');
    return (await this.refunds.findByNo(refund.refundNo))!;
  }

  /**
   * Applies what a provider said about a refund (its answer, a verified notification, a query), once:
   * a finished refund stays as it is. A success of the order's own payment adds to the order's
   * refunded amount, moves it to partially_refunded or refunded (then the membership loses the
   * order) and appends order.refunded, all in one transaction. Throws NotificationRejected for a
   * refund that is not ours or does not match.
   */
  async applyEvent(event: RefundEvent, source: RefundSource, now = new Date()): Promise<RefundApplyResult> {
    if (event.outcome === 'not_found') return 'unchanged';
    const outcome = await this.refunds.transaction(async (m) => {
      const refund = await this.refunds.lockByNo(m, event.refundNo);
      if (!refund || refund.paymentMethod !== event.provider)
        throw new NotificationRejected('UNKNOWN_REFUND', 'no refund has this refund number');
      if (event.paymentNo && event.paymentNo !== refund.paymentNo)
        throw new NotificationRejected('PAYMENT_MISMATCH', 'the refund belongs to another payment');
      if (event.outcome === 'success' && event.amountFen !== null && event.amountFen !== refund.amountFen) {
        throw new NotificationRejected('AMOUNT_MISMATCH', 'the refunded amount differs from the refund');
      }
      if (FINAL.includes(refund.status)) return { result: 'duplicate' as const, refund };
      const status: RefundStatus = event.outcome as Exclude<RefundEvent['outcome'], 'not_found'>;
      // "Still under way" is no news about a refund that has moved on: the provider's answer to our own
      // call can be applied after its notification (or a query) already said abnormal.
      if (status === 'processing' && refund.status !== 'processing') return { result: 'unchanged' as const, refund };
      if (status === refund.status) {
        await this.refunds.applyState(m, refund.id, status, event, refund.nextQueryAt);
        return { result: 'unchanged' as const, refund };
      }
      if (status === 'success') {
        await this.refunds.applyState(m, refund.id, 'success', { ...event, succeededAt: event.succeededAt ?? now }, null);
        const fulfilled = await this.fulfilment.fulfilRefund(m, refund, now);
        return { result: 'applied' as const, refund, status, fulfilled };
      }
      const failureReason =
        status === 'closed'
          ? `closed by the provider (${event.providerState})`
          : status === 'abnormal'
            ? `abnormal at the provider (${event.providerState})`
            : null;
      // abnormal is not final: it is looked at again on the refund's schedule.
      await this.refunds.applyState(
        m,
        refund.id,
        status,
        { ...event, failureReason },
        status === 'closed' ? null : (refund.nextQueryAt ?? now),
      );
      return { result: 'applied' as const, refund, status };
    });
    if (outcome.result === 'duplicate' && outcome.refund.status !== 'success' && event.outcome === 'success') {
      // We took the provider's refusal as final, and now it says the money went back: support must
      // reconcile this one by hand (the amount it held was released meanwhile).
      this.logger.error(
        `refund_no=${outcome.refund.refundNo} payment_no=${outcome.refund.paymentNo}: recorded ${outcome.refund.status}, but ${event.provider} reports it refunded (${source}); check it by hand`,
      );
    }
    if (outcome.result !== 'applied') return outcome.result;
    const { refund, status } = outcome;
    this.metrics.refunds.inc({ provider: refund.paymentMethod, status: status! });
    const orderNo = (await this.orders.orderNosOf([refund.orderId])).get(refund.orderId);
    const line = `refund_no=${refund.refundNo} order_no=${orderNo} payment_no=${refund.paymentNo} amount=${refund.amountFen} status=${status} source=${source}`;
    if (status === 'success') this.logger.log(`${line}: refunded`);
    else this.logger.warn(`${line}: ${status === 'abnormal' ? 'stuck at the provider, support must look at it' : 'nothing was refunded'}`);
    // Announced only after commit, like order.paid.
    outcome.fulfilled?.announce();
    return 'applied';
  }

  /** The provider refused: nothing was refunded, the money it held is free again. */
  private async fail(refund: Refund, reason: string): Promise<void> {
    await this.refunds.transaction(async (m) => {
      const locked = await this.refunds.lockByNo(m, refund.refundNo);
      if (!locked || locked.status !== 'processing') return;
      await this.refunds.applyState(m, locked.id, 'failed', { failureReason: reason }, null);
    });
    this.metrics.refunds.inc({ provider: refund.paymentMethod, status: 'failed' });
  }

  /** A second payment of a paid order: returned in full, by itself, once. */
  @OnEvent(DOUBLE_PAYMENT, { async: true, promisify: true, suppressErrors: true })
  async onDoublePayment(payment: DoublePayment): Promise<void> {
    try {
      await this.refundDoublePayment(payment.paymentNo, new Date());
    } catch (e) {
      // The refund job finds double payments with no refund and starts them: nothing is lost.
      this.logger.error(
        `payment_no=${payment.paymentNo} order_no=${payment.orderNo}: refunding the double payment failed (${(e as Error).message}); the refund job retries`,
      );
    }
  }

  /** An upgrade with time it could not convert: its shortfall reckoned and returned, once. */
  @OnEvent(UPGRADE_SHORTFALL, { async: true, promisify: true, suppressErrors: true })
  async onUpgradeShortfall(shortfall: UpgradeShortfall): Promise<void> {
    try {
      await this.refundUpgradeShortfall(shortfall.orderId, new Date());
    } catch (e) {
      // The refund job reckons and refunds shortfalls a failure left behind: nothing is lost.
      this.logger.error(
        `order ${shortfall.orderId}: refunding the upgrade shortfall failed (${(e as Error).message}); the refund job retries`,
      );
    }
  }

  /**
   * Reckons an upgrade's shortfall (the time its days were not there to convert, priced) and
   * records and sends a refund of what of it is not being refunded yet; false when nothing is owed.
   * The claim on the order and the refund commit together, so a shortfall is refunded once.
   */
  async refundUpgradeShortfall(orderId: string, now: Date): Promise<boolean> {
    await this.fulfilment.reckonShortfall(orderId);
    const refund = await this.refunds.transaction(async (m) => {
      const owed = await this.fulfilment.claimShortfallRefund(
        m,
        orderId,
        async (paymentNo) => (await this.refunds.paidFen(paymentNo)) - (await this.refunds.heldFen(m, paymentNo)),
      );
      if (!owed) return null;
      const inserted = await this.refunds.insert(m, {
        refundNo: newRefundNo(now),
        orderId,
        paymentNo: owed.paymentNo,
        paymentMethod: owed.paymentMethod,
        amountFen: owed.owedFen,
        kind: 'upgrade_shortfall',
        reason: UPGRADE_SHORTFALL_REASON,
        requestedBy: SYSTEM_REQUESTER,
        nextQueryAt: new Date(now.getTime() + FIRST_LOOK_MS),
      });
      return { inserted, orderNo: owed.orderNo };
    });
    if (!refund) return false;
    this.metrics.refunds.inc({ provider: refund.inserted.paymentMethod, status: 'processing' });
    this.logger.warn(
      `refund_no=${refund.inserted.refundNo} order_no=${refund.orderNo} amount=${refund.inserted.amountFen}: upgrade shortfall, refunding it`,
    );
    await this.submit(refund.inserted, refund.orderNo);
    return true;
  }

  /** Records (once) and sends the refund of a double payment; false when it was recorded already. */
  async refundDoublePayment(paymentNo: string, now: Date): Promise<boolean> {
    const payment = await this.refunds.doublePaymentOf(paymentNo);
    if (!payment) return false;
    const orderNo = (await this.orders.orderNosOf([payment.order_id])).get(payment.order_id) ?? '?';
    const refund = await this.refunds.transaction((m) =>
      this.refunds.insertDuplicatePaymentRefund(m, {
        refundNo: newRefundNo(now),
        orderId: payment.order_id,
        paymentNo,
        paymentMethod: payment.payment_method,
        amountFen: payment.amount,
        kind: 'duplicate_payment',
        reason: DUPLICATE_PAYMENT_REASON,
        requestedBy: SYSTEM_REQUESTER,
        nextQueryAt: new Date(now.getTime() + FIRST_LOOK_MS),
      }),
    );
    if (!refund) return false;
    this.metrics.doublePayments.inc({ provider: payment.payment_method });
    this.metrics.refunds.inc({ provider: payment.payment_method, status: 'processing' });
    this.logger.warn(
      `refund_no=${refund.refundNo} order_no=${orderNo} payment_no=${paymentNo} amount=${payment.amount}: double payment, refunding it in full`,
    );
    await this.submit(refund, orderNo);
    return true;
  }

  /** The job's look at an unfinished refund: query it, send it again if the provider has none, apply. */
  async followUp(refund: Refund, now: Date): Promise<RefundStatus | 'error'> {
    const provider = this.registry.refunds(refund.paymentMethod);
    const orderNo = (await this.orders.orderNosOf([refund.orderId])).get(refund.orderId) ?? '?';
    try {
      const event = await provider.queryRefund({ refundNo: refund.refundNo, paymentNo: refund.paymentNo });
      if (event.outcome === 'not_found' && refund.status === 'processing') {
        this.logger.warn(
          `refund_no=${refund.refundNo} order_no=${orderNo}: the provider has no such refund; sending it again with the same number`,
        );
        return (await this.submit(refund, orderNo)).status;
      }
      await this.applyEvent(event, 'query', now);
      return (await this.refunds.findByNo(refund.refundNo))!.status;
    } catch (e) {
      this.logger.warn(`refund_no=${refund.refundNo} order_no=${orderNo}: follow-up failed (${(e as Error).message}); retried later`);
      return 'error';
    } finally {
      await this.refunds.scheduleNext(refund.refundNo, now);
    }
  }
}
