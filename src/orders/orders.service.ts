import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { ConflictError, NotFoundError } from '../common/errors/domain-error';
import { AppConfig } from '../config/app-config';
import { MembershipService } from '../membership/membership.service';
import { MetricsService } from '../metrics/metrics.service';
import { preparedQuery } from '../database/prepared-query';
import { PaymentRecord } from '../payments/payment-record.entity';
import { AWAITING_LAST_QUERY } from '../payments/payment-records.repository';
import { PaymentsService } from '../payments/payments.service';
import { ProviderRegistry } from '../payments/provider-registry';
import type { ChannelRequest } from '../payments/payment-channel';
import { channelOptionsOf, type ChannelOptions, type ClientContext } from './order-channel';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersDto } from './dto/list-orders.dto';
import { newOrderNo, newPaymentNo } from './order-numbers';
import { appendOrderEvent, ORDER_EVENTS_COMMITTED, OrderEndedPayload } from '../outbox/order-events';
import { ORDER_NO_PATTERN } from './order-status';
import { Order } from './order.entity';
import { OrderView, toOrderView } from './order.view';

const MINUTE = 60_000;

interface PlannedAttempt { paymentNo: string; qrExpireAt: Date; nextQueryAt: Date }
/** What opening an attempt needs besides the order: the caller's connection (H5 sends its IP). */
const noClient: ClientContext = {};
/** The first active query comes a minute after the QR code was issued: sooner, the buyer has rarely scanned yet. */
const FIRST_QUERY_DELAY_MS = MINUTE;
/** Payment attempts (QR codes) one order may have, the first included. */
export const MAX_ATTEMPTS_PER_ORDER = 10;

@Injectable()
export class OrdersService {
  private readonly logger = new Logger('Orders');

  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    private readonly membership: MembershipService,
    private readonly registry: ProviderRegistry,
    private readonly payments: PaymentsService,
    private readonly events: EventEmitter2,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Prices the plan, records the order and its first attempt, then opens the payment at the
   * provider on the caller's channel (a QR code unless the caller chose another).
   * With `tx`, every write happens in that transaction (the caller's Idempotency-Key answer commits
   * with the order, or neither does).
   */
  async create(userId: string, dto: CreateOrderDto, now = new Date(), tx?: EntityManager, client: ClientContext = noClient): Promise<OrderView> {
    const channel = dto.channel ?? 'qr';
    const provider = this.registry.forChannel(dto.payment_method, channel);
    const channelOptions = channelOptionsOf(dto, channel, this.config.returnUrlOrigins);
    provider.checkChannelRequest({ channel, ...channelOptions, clientIp: client.ip });
    const isUpgrade = dto.is_upgrade ?? false;
    const { plan, quote } = await this.membership.quoteFor(userId, dto.product_id, isUpgrade, now);
    const kind = { purchase: 'membership', renewal: 'membership renewal', upgrade: 'membership upgrade' }[quote.kind];
    const expireAt = new Date(now.getTime() + this.config.orderExpireMinutes * MINUTE);
    const attempt = this.planAttempt(expireAt, now, provider.channels[channel]?.lifetimeMs);
    const fields = {
      orderNo: newOrderNo(now), userId, productType: dto.product_type, productId: plan.id, isUpgrade,
      amountFen: quote.amountFen, currency: 'CNY', description: `${plan.name} ${kind}`.slice(0, 127),
      status: 'pending' as const, paymentMethod: provider.name, expireAt,
      // An upgrade converts exactly the days it is priced on now: its terms travel with the order.
      upgradeFromLevel: quote.upgrade?.fromLevel ?? null, upgradeMs: quote.upgrade ? String(quote.upgrade.ms) : null,
    };
    // The order and its first attempt in one statement: an order never exists without an attempt
    // (a crash in between left one before), and it costs one round trip instead of two inserts.
    const insert = (text: string, values: unknown[]) => (tx
      ? tx.query(text, values) as Promise<{ id: string; created_at: Date; updated_at: Date }[]>
      : preparedQuery<{ id: string; created_at: Date; updated_at: Date }>(this.dataSource, 'create-order', text, values));
    const [row] = await insert(
      `WITH o AS (
         INSERT INTO orders (order_no, user_id, product_type, product_id, is_upgrade, amount, currency, description, status, payment_method, expire_at,
                             upgrade_from_level, upgrade_ms, created_at, channel, channel_options)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $15, $16, $17, $18, $19) RETURNING id, created_at, updated_at),
       a AS (
         INSERT INTO payment_records (order_id, payment_no, payment_method, amount, status, qr_code_expire_at, next_query_at, channel)
         SELECT o.id, $12, $10, $6, 'pending', $13, $14, $18 FROM o)
       SELECT id, created_at, updated_at FROM o`,
      [fields.orderNo, userId, fields.productType, fields.productId, isUpgrade, fields.amountFen, fields.currency, fields.description,
        fields.status, fields.paymentMethod, expireAt, attempt.paymentNo, attempt.qrExpireAt, attempt.nextQueryAt,
        fields.upgradeFromLevel, fields.upgradeMs, now, channel, channelOptions],
    );
    const order = this.orders.create({
      ...fields, id: row.id, createdAt: row.created_at, updatedAt: row.updated_at, channel, channelOptions,
      paymentNo: null, qrCodeUrl: null, qrCodeExpireAt: null, paidAt: null, transactionId: null, upgradeShortfall: null, payParams: null,
    });
    const opened = await this.issueQr(order, attempt, client, tx);
    this.metrics.ordersCreated.inc({ method: opened.paymentMethod, channel: opened.channel });
    return toOrderView(opened);
  }

  async get(userId: string, orderNo: string): Promise<OrderView> {
    return toOrderView(await this.findOwn(userId, orderNo));
  }

  async list(userId: string, query: ListOrdersDto): Promise<{ data: OrderView[]; has_more: boolean }> {
    const limit = query.limit ?? 20;
    const qb = this.orders.createQueryBuilder('o').where('o.userId = :userId', { userId })
      .orderBy('o.createdAt', 'DESC').addOrderBy('o.orderNo', 'DESC').limit(limit + 1);
    if (query.starting_after) {
      const cursor = await this.findOwn(userId, query.starting_after);
      qb.andWhere('(o.createdAt, o.orderNo) < (:at, :no)', { at: cursor.createdAt, no: cursor.orderNo });
    }
    const rows = await qb.getMany();
    return { data: rows.slice(0, limit).map(toOrderView), has_more: rows.length > limit };
  }

  /** Closes every open attempt at the provider, then the order. A paid order is a 409. */
  async cancel(userId: string, orderNo: string): Promise<OrderView> {
    const order = await this.findOwn(userId, orderNo);
    if (order.status === 'closed') return toOrderView(order);
    this.assertPayable(order, 'cancelled');
    for (const record of await this.openAttempts(order.id)) {
      if (await this.payments.closeAttempt(order.paymentMethod, record.paymentNo) === 'paid') {
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
    if (order.expireAt.getTime() <= now.getTime()) {
      throw new ConflictError('ORDER_NOT_PAYABLE', 'The order has expired: create a new order');
    }
    const provider = this.registry.forChannel(order.paymentMethod, order.channel);
    provider.checkChannelRequest(this.channelRequest(order, client));
    const previous = order.paymentNo;
    const updated = await this.openAttempt(order, now, client);
    if (previous && previous !== updated.paymentNo) {
      const result = await this.payments.closeAttempt(order.paymentMethod, previous).catch((e) => {
        this.logger.warn(`order ${order.orderNo}: closing the previous attempt ${previous} failed (${(e as Error).message}); the QR expiry job retries`);
        return 'closed' as const;
      });
      if (result === 'paid') throw new ConflictError('ORDER_ALREADY_PAID', 'The order was paid with its previous QR code');
    }
    return toOrderView(updated);
  }

  /**
   * The out_trade_no and timing of a new payment attempt for an order expiring at `orderExpireAt`;
   * no later than the channel's own limit at the provider (`lifetimeMs`), when it has one.
   */
  private planAttempt(orderExpireAt: Date, now: Date, lifetimeMs = Infinity): PlannedAttempt {
    return {
      paymentNo: newPaymentNo(now),
      qrExpireAt: new Date(Math.min(now.getTime() + this.config.qrCodeExpireMinutes * MINUTE, orderExpireAt.getTime(), now.getTime() + lifetimeMs)),
      nextQueryAt: new Date(now.getTime() + FIRST_QUERY_DELAY_MS),
    };
  }

  /** Records a new attempt for an existing order, then opens it on the order's channel. */
  private async openAttempt(order: Order, now: Date, client: ClientContext): Promise<Order> {
    const lifetimeMs = this.registry.forChannel(order.paymentMethod, order.channel).channels[order.channel]?.lifetimeMs;
    const attempt = this.planAttempt(order.expireAt, now, lifetimeMs);
    await this.dataSource.transaction(async (m) => {
      // Every attempt costs the merchant a create and a close at the provider, whose rate limits
      // are per merchant: one member re-issuing codes in a loop must not use them up for everyone.
      // The order's row lock makes the count and the insert one step, however many requests race.
      await m.getRepository(Order).createQueryBuilder('o').setLock('pessimistic_write').where('o.id = :id', { id: order.id }).getOne();
      if (await m.getRepository(PaymentRecord).countBy({ orderId: order.id }) >= MAX_ATTEMPTS_PER_ORDER) {
        throw new ConflictError('ORDER_NOT_PAYABLE', `This order has had ${MAX_ATTEMPTS_PER_ORDER} QR codes, the most an order may have: create a new order`);
      }
      await m.getRepository(PaymentRecord).insert({
        orderId: order.id, paymentNo: attempt.paymentNo, paymentMethod: order.paymentMethod, amountFen: order.amountFen,
        status: 'pending', qrCodeExpireAt: attempt.qrExpireAt, nextQueryAt: attempt.nextQueryAt, channel: order.channel,
      });
    });
    return this.issueQr(order, attempt, client);
  }

  /** The order's channel with the caller's stored options and this request's connection. */
  private channelRequest(order: Order, client: ClientContext): ChannelRequest {
    return { channel: order.channel, ...(order.channelOptions as ChannelOptions | null ?? {}), clientIp: client.ip };
  }

  /**
   * Asks the provider for the recorded attempt's QR code and points the order at it. When the
   * provider fails or times out, the attempt is marked failed and closed at the provider in the
   * background (a timed-out request may have created the trade), and a brand-new order is closed
   * too, so no order is left pending without a QR code.
   */
  private async issueQr(order: Order, { paymentNo, qrExpireAt }: PlannedAttempt, client: ClientContext, tx?: EntityManager): Promise<Order> {
    const db = tx ?? this.dataSource.manager;
    const provider = this.registry.forChannel(order.paymentMethod, order.channel);
    let qrCodeUrl: string | null;
    let payParams: Record<string, string>;
    try {
      const opened = await provider.open(
        { paymentNo, amountFen: order.amountFen, description: order.description, expiresAt: qrExpireAt }, this.channelRequest(order, client));
      qrCodeUrl = opened.qrCodeUrl ?? null;
      payParams = opened.pay;
    } catch (e) {
      await db.transaction(async (m) => {
        await m.query(`UPDATE payment_records SET status = 'failed', next_query_at = NULL, updated_at = now() WHERE payment_no = $1 AND status = 'pending'`, [paymentNo]);
        if (!order.paymentNo) {
          await m.query(`UPDATE orders SET status = 'failed', updated_at = now() WHERE id = $1 AND status = 'pending'`, [order.id]);
          this.metrics.ordersEnded.inc({ method: order.paymentMethod, status: 'failed' });
        }
      });
      provider.close(paymentNo).catch(() => undefined);
      throw e;
    }
    // The attempt's and the order's payment in one statement (atomic without BEGIN/COMMIT round trips).
    const [updated] = await db.query(
      `WITH attempt AS (UPDATE payment_records SET qr_code_url = $3, pay_params = $5, updated_at = now() WHERE payment_no = $2)
       UPDATE orders SET payment_no = $2, qr_code_url = $3, qr_code_expire_at = $4, pay_params = $5, updated_at = now()
        WHERE id = $1 AND status = 'pending' RETURNING updated_at`,
      [order.id, paymentNo, qrCodeUrl, qrExpireAt, payParams],
    ) as [{ updated_at: Date }[], number];
    // Still pending (the usual case): the order we hold, with its new code. Otherwise a payment or
    // the expiry got there first: read what it became.
    if (!updated.length) return db.getRepository(Order).findOneByOrFail({ id: order.id });
    return Object.assign(order, { paymentNo, qrCodeUrl, qrCodeExpireAt: qrExpireAt, payParams, updatedAt: updated[0].updated_at });
  }

  /**
   * Moves a pending order to closed or expired, with its outbox event in the same transaction.
   * Returns false when the order was no longer pending (a payment got there first).
   */
  async end(orderId: string, status: 'closed' | 'expired', now: Date): Promise<boolean> {
    const announced = await this.dataSource.transaction(async (m) => {
      const [row] = await m.query(
        `UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 AND status = 'pending' RETURNING order_no, user_id, payment_method`,
        [orderId, status],
      ) as [{ order_no: string; user_id: string; payment_method: string }[], number];
      const updated = row[0];
      if (!updated) return null;
      this.metrics.ordersEnded.inc({ method: updated.payment_method, status });
      // An attempt whose trade the provider did not know yet stays pending for its last query
      // (PaymentsService.closeAttempt): a code scanned after the cancel is still found and honoured.
      await m.query(
        `UPDATE payment_records SET status = 'closed', next_query_at = NULL, updated_at = now()
          WHERE order_id = $1 AND status = 'pending' AND trade_state IS DISTINCT FROM $2`, [orderId, AWAITING_LAST_QUERY]);
      const payload: OrderEndedPayload = { order_no: updated.order_no, status, at: now.toISOString() };
      return appendOrderEvent(m, orderId, updated.user_id, updated.order_no, `order.${status}`, { ...payload });
    });
    if (announced) this.events.emit(ORDER_EVENTS_COMMITTED, [announced]);
    return !!announced;
  }

  private assertPayable(order: Order, action: string): void {
    if (order.status === 'paid') throw new ConflictError('ORDER_ALREADY_PAID', `The order is paid and cannot be ${action}`);
    if (order.status !== 'pending') throw new ConflictError('ORDER_NOT_PAYABLE', `The order is ${order.status} and cannot be ${action}`);
  }

  private openAttempts(orderId: string): Promise<PaymentRecord[]> {
    return this.dataSource.getRepository(PaymentRecord).find({ where: { orderId, status: 'pending' } });
  }

  /** The caller's own order; anybody else's is indistinguishable from one that does not exist. */
  private async findOwn(userId: string, orderNo: string): Promise<Order> {
    const order = ORDER_NO_PATTERN.test(orderNo) ? await this.orders.findOneBy({ orderNo, userId }) : null;
    if (!order) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    return order;
  }
}
