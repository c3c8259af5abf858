import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { preparedQueryIn } from '../database/prepared-query';
import { movableTo } from './order-lifecycle';
import type { PaymentChannel } from '../payments/payment-channel';
import { Order } from './order.entity';
import { statusAmong, STILL_PENDING } from '../database/row-conditions';

/** The columns of a new order, as create-order prices it. */
export type NewOrder = Pick<
  Order,
  | 'orderNo'
  | 'userId'
  | 'productType'
  | 'productId'
  | 'isUpgrade'
  | 'amountFen'
  | 'currency'
  | 'description'
  | 'status'
  | 'paymentMethod'
  | 'expireAt'
  | 'upgradeFromLevel'
  | 'upgradeMs'
  | 'upgradeQuotedAt'
> & { channel: PaymentChannel; channelOptions: Order['channelOptions']; source?: Order['source']; autoRenew?: boolean };

/** A renewal order, as the subscriptions module reads it. */
export interface RenewalOrderRow {
  id: string;
  order_no: string;
  user_id: string;
  status: string;
  amount: number;
  description: string;
  payment_method: Order['paymentMethod'];
}

/** What an order's end changed: enough for its event and its metric. */
export interface EndedOrder {
  order_no: string;
  user_id: string;
  payment_method: string;
  auto_renew: boolean;
}

/** A member's second upgrade while one is pending: both would be priced on the same days. */
export class PendingUpgradeExists extends Error {}

/**
 * orders: written here, by the order's own flows (create, a fresh payment, cancel, expiry); its
 * fulfilment (OrderFulfilment, the PaidOrders port of settlement, and the refunds' path) writes it
 * through OrderFulfilmentRepository and OrderRefundsRepository, both in this module too.
 */
@Injectable()
export class OrdersRepository {
  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(Order) private readonly orders: Repository<Order>,
  ) {}

  /** The connection's manager, for work outside a caller's transaction. */
  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Inserts a new order on the caller's transaction; the entity as stored. */
  /**
   * Inserts a pending order. Throws PendingUpgradeExists when it is an upgrade and the member has
   * one pending already (UQ_orders_pending_upgrade: two upgrades would be priced on the same days).
   */
  async insert(m: EntityManager, o: NewOrder, now: Date): Promise<Order> {
    const [row] = await this.insertRow(m, o, now).catch((e: unknown) => {
      const err = e as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
      const driver = err.driverError ?? err;
      if (driver.code === '23505' && driver.constraint === 'UQ_orders_pending_upgrade') throw new PendingUpgradeExists();
      throw e;
    });
    return this.orders.create({
      ...o,
      id: row.id,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      paymentNo: null,
      qrCodeUrl: null,
      qrCodeExpireAt: null,
      paidAt: null,
      transactionId: null,
      upgradeShortfall: null,
      upgradeShortfallRefunding: 0,
      payParams: null,
    });
  }

  /** The member's pending upgrade, if any: the order number a refused second upgrade names. */
  async pendingUpgradeOf(userId: string): Promise<string | undefined> {
    const [row] = (await this.dataSource.query(`SELECT order_no FROM orders WHERE user_id = $1 AND is_upgrade AND status = 'pending'`, [
      userId,
    ])) as { order_no: string }[];
    return row?.order_no;
  }

  private insertRow(m: EntityManager, o: NewOrder, now: Date) {
    return preparedQueryIn<{ id: string; created_at: Date; updated_at: Date }>(
      m,
      'order-insert',
      `INSERT INTO orders (order_no, user_id, product_type, product_id, is_upgrade, amount, currency, description, status, payment_method, expire_at,
                           upgrade_from_level, upgrade_ms, created_at, channel, channel_options, upgrade_quoted_at, auto_renew, source)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id, created_at, updated_at`,
      [
        o.orderNo,
        o.userId,
        o.productType,
        o.productId,
        o.isUpgrade,
        o.amountFen,
        o.currency,
        o.description,
        o.status,
        o.paymentMethod,
        o.expireAt,
        o.upgradeFromLevel,
        o.upgradeMs,
        now,
        o.channel,
        o.channelOptions,
        o.upgradeQuotedAt,
        o.autoRenew ?? false,
        o.source ?? 'member',
      ],
    );
  }

  /**
   * Locks the order's row: what is decided under it (the attempt count) is one step, however many
   * requests race. FOR NO KEY UPDATE, as every lock of an order row (OrderRefundsRepository says why).
   */
  async lock(m: EntityManager, id: string): Promise<void> {
    await m.getRepository(Order).createQueryBuilder('o').setLock('for_no_key_update').where('o.id = :id', { id }).getOne();
  }

  /**
   * Points a pending order at its newest attempt and what the client needs for it; the new
   * updated_at, or null when the order is no longer pending (a payment or the expiry got there first).
   */
  async pointAtAttempt(
    db: EntityManager,
    id: string,
    paymentNo: string,
    qrCodeUrl: string | null,
    qrExpireAt: Date,
    payParams: Record<string, string>,
  ): Promise<Date | null> {
    const [row] = await preparedQueryIn<{ updated_at: Date }>(
      db,
      'order-point-at-attempt',
      `UPDATE orders SET payment_no = $2, qr_code_url = $3, qr_code_expire_at = $4, pay_params = $5, updated_at = now()
        WHERE id = $1 AND ${STILL_PENDING} RETURNING updated_at`,
      [id, paymentNo, qrCodeUrl, qrExpireAt, payParams],
    );
    return row?.updated_at ?? null;
  }

  /** A new order whose first payment could not be opened: failed, so none stays pending without a code. */
  async markFailed(m: EntityManager, id: string): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE orders SET status = 'failed', updated_at = now() WHERE id = $1 AND ${statusAmong('$2')} RETURNING id`,
      [id, movableTo('failed')],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /**
   * Deletes a pending order that never had a payment (its first attempt was refused, and removed
   * first on the same transaction); false when it is no longer such an order.
   */
  async discard(m: EntityManager, id: string): Promise<boolean> {
    const [rows] = (await m.query(`DELETE FROM orders WHERE id = $1 AND ${STILL_PENDING} AND payment_no IS NULL RETURNING id`, [id])) as [
      unknown[],
      number,
    ];
    return rows.length > 0;
  }

  /** Moves a pending order to closed or expired; undefined when it was no longer pending. */
  async end(m: EntityManager, id: string, status: 'closed' | 'expired'): Promise<EndedOrder | undefined> {
    const [rows] = (await m.query(
      `UPDATE orders SET status = $2, updated_at = now() WHERE id = $1 AND ${statusAmong('$3')} RETURNING order_no, user_id, payment_method, auto_renew`,
      [id, status, movableTo(status)],
    )) as [EndedOrder[], number];
    return rows[0];
  }

  /** An order as a renewal (or an Alipay first period) is charged from; null when there is none. */
  async forCharge(id: string): Promise<RenewalOrderRow | null> {
    const [row] = (await this.dataSource.query(
      `SELECT id, order_no, user_id, status, amount, description, payment_method FROM orders WHERE id = $1`,
      [id],
    )) as RenewalOrderRow[];
    return row ?? null;
  }

  findById(db: EntityManager, id: string): Promise<Order> {
    return db.getRepository(Order).findOneByOrFail({ id });
  }

  findOwn(userId: string, orderNo: string): Promise<Order | null> {
    return this.orders.findOneBy({ orderNo, userId });
  }

  /** A page of the member's orders, newest first, after `cursor` when given; one more than `limit` tells whether more follow. */
  listOwn(userId: string, limit: number, cursor?: Order): Promise<Order[]> {
    const qb = this.orders
      .createQueryBuilder('o')
      .where('o.userId = :userId', { userId })
      .orderBy('o.createdAt', 'DESC')
      .addOrderBy('o.orderNo', 'DESC')
      .limit(limit + 1);
    if (cursor) qb.andWhere('(o.createdAt, o.orderNo) < (:at, :no)', { at: cursor.createdAt, no: cursor.orderNo });
    return qb.getMany();
  }

  /**
   * Pending orders past expire_at, oldest expiry first, after `after` (the last one of the previous
   * page). Which still have an attempt open is payments' to say. No lease is needed: OrdersService.end
   * moves an order only while it is pending, so one caller wins.
   */
  async pastExpiry(now: Date, limit: number, after?: { expireAt: Date; id: string }): Promise<{ id: string; expireAt: Date }[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, expire_at FROM orders
       WHERE status = 'pending' AND expire_at <= $1 AND ($3::timestamptz IS NULL OR (expire_at, id) > ($3, $4::uuid))
       ORDER BY expire_at, id LIMIT $2`,
      [now, limit, after?.expireAt ?? null, after?.id ?? null],
    )) as { id: string; expire_at: Date }[];
    return rows.map((r) => ({ id: r.id, expireAt: r.expire_at }));
  }
}
