import { Injectable, Logger, Optional } from '@nestjs/common';
import { orderDescription } from './order-description';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import { beijingDayOf } from '../common/beijing-day';
import { ConflictError, DomainError, NotFoundError } from '../common/errors/domain-error';
import { ERROR_CODES } from '../common/errors/error-codes';
import { DEFAULT_PAGE_LIMIT } from '../common/http/page-query';
import { newOrderNo } from '../common/trade-numbers';
import { AppConfig } from '../config/app-config';
import { MembershipService } from '../membership/membership.service';
import { MetricsService } from '../metrics/metrics.service';
import { appendOrderEvent, ORDER_EVENTS_COMMITTED, OrderEndedPayload } from '../outbox/order-events';
import { AgreementRegistry } from '../payments/agreement-registry';
import { PaymentAttemptsService, type AttemptSigning } from '../payments/payment-attempts.service';
import type { MembershipPlan } from '../membership/membership-plan.entity';
import type { ChannelRequest } from '../payments/payment-channel';
import type { PlannedAttempt } from '../payments/payment-records.repository';
import { PaymentsService } from '../payments/payments.service';
import { ProviderRegistry } from '../payments/provider-registry';
import { channelOptionsOf, type ChannelOptions, type ClientContext } from './order-channel';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersDto } from './dto/list-orders.dto';
import { ORDER_NO_PATTERN } from './order-status';
import { Order } from './order.entity';
import { OrderContracts } from './order-contracts';
import { OrderView, toOrderView } from './order.view';
import { OrdersRepository, PendingUpgradeExists, type RenewalOrderRow } from './orders.repository';

const MINUTE = 60_000;

/** A refusal of the client's own request (a 4xx), as opposed to the provider failing. */
const refusesClient = (e: unknown): boolean => e instanceof DomainError && ERROR_CODES[e.code] < 500;

/** What opening an attempt needs besides the order: the caller's connection (H5 sends its IP). */
const noClient: ClientContext = {};
/** Payment attempts (QR codes) one order may have, the first included. */
export const MAX_ATTEMPTS_PER_ORDER = 10;

@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');

  constructor(
    private readonly config: AppConfig,
    private readonly orders: OrdersRepository,
    private readonly membership: MembershipService,
    private readonly registry: ProviderRegistry,
    private readonly attempts: PaymentAttemptsService,
    private readonly payments: PaymentsService,
    private readonly events: EventEmitter2,
    private readonly metrics: MetricsService,
    private readonly agreements: AgreementRegistry,
    /** Absent where no module owns contracts: auto-renewal is then refused. */
    @Optional() private readonly contracts?: OrderContracts,
  ) {}

  /**
   * Prices the plan, records the order and its first attempt, then opens the payment at the
   * provider on the caller's channel (a QR code unless the caller chose another).
   * With `tx`, every write happens in that transaction (the caller's Idempotency-Key answer commits
   * with the order, or neither does).
   */
  async create(
    userId: string,
    dto: CreateOrderDto,
    now = new Date(),
    tx?: EntityManager,
    client: ClientContext = noClient,
  ): Promise<OrderView> {
    const channel = dto.channel ?? 'qr';
    const provider = this.registry.forChannel(dto.payment_method, channel);
    const channelOptions = channelOptionsOf(dto, channel, this.config.returnUrlOrigins);
    provider.checkChannelRequest({ channel, ...channelOptions, clientIp: client.ip });
    const isUpgrade = dto.is_upgrade ?? false;
    const autoRenew = dto.auto_renew ?? false;
    const plan = await this.membership.activePlan(dto.product_id);
    const contracts = autoRenew ? this.contractsFor(provider.name, plan, channel, isUpgrade) : undefined;
    if (contracts) await this.supersedeUnpaidSigning(userId, contracts);
    // One contract per member: an upgrade that signs for the higher level ends the lower level's first.
    if (contracts && isUpgrade) await contracts.endForUpgrade(userId, null, now);
    const expireAt = new Date(now.getTime() + this.config.orderExpireMinutes * MINUTE);
    const attempt = this.attempts.plan(provider.name, channel, expireAt, now, autoRenew);
    let signing: AttemptSigning | undefined;
    // The order and its first attempt (and its contract, when it signs one) in one transaction: an
    // order never exists without an attempt. It is priced in that transaction under the member's lock;
    // an upgrade keeps the quote's time and converts the days granted before then, which are the days
    // it was priced on.
    const record = async (m: EntityManager) => {
      const { quote, quotedAt } = await this.membership.quoteUnderLock(m, userId, plan, isUpgrade);
      const order = await this.orders.insert(
        m,
        {
          orderNo: newOrderNo(now),
          userId,
          productType: dto.product_type,
          productId: plan.id,
          isUpgrade,
          autoRenew,
          amountFen: quote.amountFen,
          currency: 'CNY',
          description: orderDescription(plan, quote.kind, autoRenew),
          status: 'pending',
          paymentMethod: provider.name,
          expireAt,
          // An upgrade converts exactly the days it is priced on now: its terms travel with the order.
          upgradeFromLevel: quote.upgrade?.fromLevel ?? null,
          upgradeMs: quote.upgrade ? String(quote.upgrade.ms) : null,
          upgradeQuotedAt: quote.upgrade ? quotedAt : null,
          channel,
          channelOptions,
        },
        now,
      );
      await this.attempts.record(m, { ...attempt, orderId: order.id, method: order.paymentMethod, amountFen: order.amountFen, channel });
      if (contracts) {
        const contract = await contracts.openForOrder(
          m,
          { orderId: order.id, userId, provider: provider.name, plan: { id: plan.id, code: plan.code }, renewalFen: plan.priceFen },
          now,
        );
        signing = {
          contractNo: contract.contractNo,
          planCode: plan.code,
          amountFen: plan.priceFen,
          displayAccount: userId,
          periodDays: plan.durationDays,
          firstDeductionDate: beijingDayOf(now),
        };
      }
      return order;
    };
    const order = await (tx ? record(tx) : this.orders.transaction(record)).catch(async (e: unknown) => {
      if (!(e instanceof PendingUpgradeExists)) throw e;
      const pending = await this.orders.pendingUpgradeOf(userId);
      throw new ConflictError(
        'UPGRADE_PENDING',
        `Order ${pending ?? '(just paid or ended)'} already upgrades these days: pay it, or cancel it before creating another upgrade`,
      );
    });
    const opened = await this.issue(order, attempt, client, tx, signing);
    this.metrics.ordersCreated.inc({ method: opened.paymentMethod, channel: opened.channel });
    return toOrderView(opened);
  }

  /**
   * A renewal order for a contract's cycle, on the caller's transaction: the member's order (source
   * `renewal`) of the contract's plan at the amount signed, with no attempt: the renewal job deducts it
   * (payments' AgreementDeductions), every try an attempt of this one order. It stays payable until
   * `expireAt` (past any grace), and is closed when its contract ends unpaid.
   */
  async createRenewal(
    m: EntityManager,
    r: { userId: string; planId: number; amountFen: number; method: RenewalOrderRow['payment_method']; expireAt: Date },
    now: Date,
  ): Promise<{ orderId: string; orderNo: string; description: string }> {
    const plan = await this.membership.plan(r.planId);
    const order = await this.orders.insert(
      m,
      {
        orderNo: newOrderNo(now),
        userId: r.userId,
        productType: 'membership',
        productId: plan.id,
        isUpgrade: false,
        amountFen: r.amountFen,
        currency: 'CNY',
        description: orderDescription(plan, 'renewal'),
        status: 'pending',
        paymentMethod: r.method,
        expireAt: r.expireAt,
        upgradeFromLevel: null,
        upgradeMs: null,
        upgradeQuotedAt: null,
        // No channel is used: the provider takes the money under the contract. The column's default.
        channel: 'qr',
        channelOptions: null,
        source: 'renewal',
      },
      now,
    );
    this.metrics.ordersCreated.inc({ method: r.method, channel: 'contract' });
    return { orderId: order.id, orderNo: order.orderNo, description: order.description };
  }

  /** An order as a deduction charges it (a renewal, or the first period of a contract signed alone). */
  forCharge(orderId: string): Promise<RenewalOrderRow | null> {
    return this.orders.forCharge(orderId);
  }

  async get(userId: string, orderNo: string): Promise<OrderView> {
    return toOrderView(await this.findOwn(userId, orderNo));
  }

  async list(userId: string, query: ListOrdersDto): Promise<{ data: OrderView[]; has_more: boolean }> {
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    const cursor = query.starting_after ? await this.findOwn(userId, query.starting_after) : undefined;
    const rows = await this.orders.listOwn(userId, limit, cursor);
    return { data: rows.slice(0, limit).map(toOrderView), has_more: rows.length > limit };
  }

  /** Closes every open attempt at the provider, then the order. A paid order is a 409. */
  async cancel(userId: string, orderNo: string): Promise<OrderView> {
    const order = await this.findOwn(userId, orderNo);
    if (order.status === 'closed') return toOrderView(order);
    this.assertPayable(order, 'cancelled');
    for (const record of await this.attempts.openOf(order.id)) {
      if ((await this.payments.closeAttempt(order.paymentMethod, record.paymentNo)) === 'paid') {
        throw new ConflictError('ORDER_ALREADY_PAID', 'The order was paid before it could be cancelled');
      }
    }
    await this.end(order.id, 'closed', new Date());
    const after = await this.findOwn(userId, orderNo);
    if (after.status === 'paid') throw new ConflictError('ORDER_ALREADY_PAID', 'The order was paid before it could be cancelled');
    return toOrderView(after);
  }

  /**
   * A fresh payment on the order's channel (a QR code, a prepay_id, an h5_url …): a new attempt
   * first, then the old one closed, so the order always has something payable.
   */
  async refreshQr(userId: string, orderNo: string, now = new Date(), client: ClientContext = noClient): Promise<OrderView> {
    const order = await this.findOwn(userId, orderNo);
    this.assertPayable(order, 'given a new payment');
    if (order.autoRenew) {
      // Its code signs one contract under our number; a second code for it could sign it twice.
      throw new ConflictError('ORDER_NOT_PAYABLE', 'An auto-renewal order cannot be given a new payment: cancel it and create a new order');
    }
    if (order.expireAt.getTime() <= now.getTime()) {
      throw new ConflictError('ORDER_NOT_PAYABLE', 'The order has expired: create a new order');
    }
    const provider = this.registry.forChannel(order.paymentMethod, order.channel);
    provider.checkChannelRequest(this.channelRequest(order, client));
    const previous = order.paymentNo;
    const updated = await this.openAttempt(order, now, client);
    if (previous && previous !== updated.paymentNo) {
      const result = await this.payments.closeAttempt(order.paymentMethod, previous).catch((e) => {
        this.logger.warn(
          `order ${order.orderNo}: closing the previous attempt ${previous} failed (${(e as Error).message}); the QR expiry job retries`,
        );
        return 'closed' as const;
      });
      if (result === 'paid') throw new ConflictError('ORDER_ALREADY_PAID', 'The order was paid with its previous QR code');
    }
    return toOrderView(updated);
  }

  /** Records a new attempt for an existing order, within the order's allowance, then opens it on the order's channel. */
  private async openAttempt(order: Order, now: Date, client: ClientContext): Promise<Order> {
    const attempt = this.attempts.plan(order.paymentMethod, order.channel, order.expireAt, now);
    await this.orders.transaction(async (m) => {
      // Every attempt costs the merchant a create and a close at the provider, whose rate limits
      // are per merchant: one member re-issuing codes in a loop must not use them up for everyone.
      // The order's row lock makes the count and the insert one step, however many requests race.
      await this.orders.lock(m, order.id);
      if ((await this.attempts.countFor(m, order.id)) >= MAX_ATTEMPTS_PER_ORDER) {
        throw new ConflictError(
          'ORDER_NOT_PAYABLE',
          `This order has had ${MAX_ATTEMPTS_PER_ORDER} QR codes, the most an order may have: create a new order`,
        );
      }
      await this.attempts.record(m, {
        ...attempt,
        orderId: order.id,
        method: order.paymentMethod,
        amountFen: order.amountFen,
        channel: order.channel,
      });
    });
    return this.issue(order, attempt, client);
  }

  /** The order's channel with the caller's stored options and this request's connection. */
  private channelRequest(order: Order, client: ClientContext): ChannelRequest {
    return { channel: order.channel, ...((order.channelOptions as ChannelOptions | null) ?? {}), clientIp: client.ip };
  }

  /**
   * Asks payments to open the recorded attempt and points the order at it. When the provider
   * fails, a brand-new order is failed with its attempt, so no order is left pending without a
   * payment to make. When the provider refuses what the client asked for (a 4xx: an openid it does
   * not know under that app id), a brand-new order is not kept at all, as with an Idempotency-Key,
   * whose transaction rolls back on a refusal: the buyer pays a new order by another channel, and
   * no failed order (or pending upgrade) stands in the way. An order with a payment already keeps it.
   */
  private async issue(
    order: Order,
    attempt: PlannedAttempt,
    client: ClientContext,
    tx?: EntityManager,
    signing?: AttemptSigning,
  ): Promise<Order> {
    const db = tx ?? this.orders.manager;
    const payable = { method: order.paymentMethod, amountFen: order.amountFen, description: order.description };
    const onFailure = async (m: EntityManager, error?: unknown) => {
      if (order.paymentNo) return;
      // An order that signs a contract is failed rather than discarded: its contract row names it.
      if (refusesClient(error) && !order.autoRenew) {
        await this.attempts.discard(m, attempt.paymentNo);
        await this.orders.discard(m, order.id);
      } else if (await this.orders.markFailed(m, order.id)) {
        this.metrics.ordersEnded.inc({ method: order.paymentMethod, status: 'failed' });
        if (order.autoRenew) await this.contracts?.releaseForOrder(m, order.id, new Date());
      }
    };
    const request = this.channelRequest(order, client);
    const opened = signing
      ? await this.attempts.openSigning(payable, attempt, request, signing, db, onFailure)
      : await this.attempts.open(payable, attempt, request, db, onFailure);
    const qrCodeUrl = opened.qrCodeUrl ?? null;
    const updatedAt = await this.orders.pointAtAttempt(db, order.id, attempt.paymentNo, qrCodeUrl, attempt.qrExpireAt, opened.pay);
    // Still pending (the usual case): the order we hold, with its new code. Otherwise a payment or
    // the expiry got there first: read what it became.
    if (!updatedAt) return this.orders.findById(db, order.id);
    return Object.assign(order, {
      paymentNo: attempt.paymentNo,
      qrCodeUrl,
      qrCodeExpireAt: attempt.qrExpireAt,
      payParams: opened.pay,
      updatedAt,
    });
  }

  /**
   * Moves a pending order to closed or expired, with its outbox event in the same transaction.
   * Returns false when the order was no longer pending (a payment got there first).
   */
  async end(orderId: string, status: 'closed' | 'expired', now: Date): Promise<boolean> {
    const announced = await this.orders.transaction(async (m) => {
      const updated = await this.orders.end(m, orderId, status);
      if (!updated) return null;
      this.metrics.ordersEnded.inc({ method: updated.payment_method, status });
      await this.attempts.closeOpenOf(m, orderId);
      // Its contract was never signed with a payment: the member may buy with auto-renewal again.
      if (updated.auto_renew) await this.contracts?.releaseForOrder(m, orderId, now);
      const payload: OrderEndedPayload = { order_no: updated.order_no, status, at: now.toISOString() };
      return appendOrderEvent(m, orderId, updated.user_id, updated.order_no, `order.${status}`, { ...payload });
    });
    if (announced) this.events.emit(ORDER_EVENTS_COMMITTED, [announced]);
    return !!announced;
  }

  /**
   * A member who left an auto-renewal order unpaid (back to the plans, another choice) and buys with
   * auto-renewal again: the new order supersedes the old one, which is cancelled (its code closed at
   * the provider), releasing its contract. One paid meanwhile keeps its contract: 409 AUTO_RENEW_ACTIVE.
   */
  private async supersedeUnpaidSigning(userId: string, contracts: OrderContracts): Promise<void> {
    const orderId = await contracts.pendingSigningOf(userId);
    if (!orderId) return;
    const old = await this.orders.findById(this.orders.manager, orderId);
    if (old.userId !== userId || old.status !== 'pending' || !old.autoRenew) return;
    await this.cancel(userId, old.orderNo).catch((e: unknown) => {
      if (e instanceof ConflictError && e.code === 'ORDER_ALREADY_PAID')
        throw new ConflictError('AUTO_RENEW_ACTIVE', `Order ${old.orderNo} was just paid and signs auto-renewal`);
      throw e;
    });
    this.logger.log(`order ${old.orderNo}: superseded by a new auto-renewal order, cancelled`);
  }

  /**
   * What signs the order's contract, once auto-renewal is possible for this plan with this provider on
   * this channel; otherwise a 400 before anything is recorded.
   */
  private contractsFor(
    method: Order['paymentMethod'],
    plan: MembershipPlan,
    channel: Order['channel'],
    isUpgrade: boolean,
  ): OrderContracts {
    const adapter = this.agreements.find(method);
    const refuse = (why: string) => new DomainError('VALIDATION_FAILED', 'The request is invalid', [`auto_renew: ${why}`]);
    if (!this.contracts || !adapter) throw refuse(`auto-renewal is not available with ${method}`);
    if (!adapter.supportsPlan(plan.code)) throw refuse(`the plan ${plan.code} cannot be renewed automatically with ${method}`);
    if (!adapter.signingChannels.includes(channel))
      throw refuse(`with ${method}, auto-renewal is signed on the ${adapter.signingChannels.join(' or ')} channel, not ${channel}`);
    // Where the provider signs first, the first period is deducted under the contract at the contract's
    // amount; an upgrade's first payment is only a difference, so it signs where payment and signing are one.
    if (isUpgrade && adapter.signing === 'sign_only')
      throw refuse(`with ${method}, an upgrade cannot sign auto-renewal: upgrade without it, then renew with auto-renewal`);
    return this.contracts;
  }

  private assertPayable(order: Order, action: string): void {
    // The contract pays a renewal order; the member stops it by cancelling auto-renewal, which closes it.
    if (order.source === 'renewal' && order.status === 'pending')
      throw new ConflictError(
        'ORDER_NOT_PAYABLE',
        `A renewal order is charged under the auto-renewal contract and cannot be ${action}: cancel auto-renewal instead`,
      );
    if (order.status === 'paid') throw new ConflictError('ORDER_ALREADY_PAID', `The order is paid and cannot be ${action}`);
    if (order.status !== 'pending') throw new ConflictError('ORDER_NOT_PAYABLE', `The order is ${order.status} and cannot be ${action}`);
  }

  /** The caller's own order; anybody else's is indistinguishable from one that does not exist. */
  private async findOwn(userId: string, orderNo: string): Promise<Order> {
    const order = ORDER_NO_PATTERN.test(orderNo) ? await this.orders.findOwn(userId, orderNo) : null;
    if (!order) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    return order;
  }
}
