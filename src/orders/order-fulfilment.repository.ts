import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { preparedQueryIn } from '../database/prepared-query';
import { runParts, StatementPart } from '../database/statement-parts';
import { ORDER_EVENT_ADDED } from '../outbox/order-events';
import type { ReturnedOrder, SettlingOrder } from '../payments/paid-orders';
import { movableTo } from './order-lifecycle';

/** The statuses a first payment may find its order in (a late payment is honoured). */
const PAYABLE = movableTo('paid');

/** An order locked for settlement, with what its grant needs: the plan's level and days as they are now. */
export interface OrderToFulfil extends SettlingOrder {
  productId: number;
  amount: number;
  isUpgrade: boolean;
  autoRenew: boolean;
  /** member: bought by the member; renewal: made by the renewal job for a contract's cycle. */
  source: 'member' | 'renewal';
  upgradeFromLevel: number | null;
  upgradeMs: number | null;
  /** When the upgrade was quoted (its created_at for an upgrade quoted before this was recorded). */
  upgradeQuotedAt: Date | null;
  planLevel: number;
  planDays: number;
}

interface LockedRow {
  order_id: string;
  order_no: string;
  user_id: string;
  status: string;
  paid: boolean;
  payment_method: SettlingOrder['paymentMethod'];
  created_at: Date;
  product_id: number;
  amount: number;
  is_upgrade: boolean;
  auto_renew: boolean;
  source: 'member' | 'renewal';
  upgrade_from_level: number | null;
  upgrade_ms: string | null;
  upgrade_quoted_at: Date | null;
  plan_level: number;
  plan_days: number;
}

/** The orders module's statements on the settling transaction: lock the order, mark it paid. */
@Injectable()
export class OrderFulfilmentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The order as the provider's return page shows it (return_url: where the member's client asked to come back to). */
  async returned(orderId: string): Promise<ReturnedOrder | undefined> {
    const [order] = (await this.dataSource.query(
      `SELECT order_no, status, amount, description, channel_options->>'returnUrl' AS return_url FROM orders WHERE id = $1`,
      [orderId],
    )) as ReturnedOrder[];
    return order;
  }

  /**
   * Locks the order row (FOR NO KEY UPDATE, as OrderRefundsRepository explains) and reads it with
   * its plan's level and days, in one round trip.
   */
  async lockForSettlement(m: EntityManager, orderId: string): Promise<OrderToFulfil | undefined> {
    const [r] = await preparedQueryIn<LockedRow>(
      m,
      'fulfil-lock-order',
      // A renewal order that ended unpaid (its contract was cancelled or lapsed) keeps no payment: a
      // deduction that succeeds after that is returned as a double payment is.
      `SELECT o.id AS order_id, o.order_no, o.user_id, o.status,
              (o.paid_at IS NOT NULL OR (o.source = 'renewal' AND o.status IN ('closed', 'expired'))) AS paid,
              o.payment_method, o.created_at,
              o.product_id, o.amount, o.is_upgrade, o.auto_renew, o.source, o.upgrade_from_level, o.upgrade_ms,
              COALESCE(o.upgrade_quoted_at, o.created_at) AS upgrade_quoted_at,
              pl.level AS plan_level, pl.duration_days AS plan_days
         FROM orders o JOIN membership_plans pl ON pl.id = o.product_id
        WHERE o.id = $1
          FOR NO KEY UPDATE OF o`,
      [orderId],
    );
    if (!r) return undefined;
    return {
      orderId: r.order_id,
      orderNo: r.order_no,
      userId: r.user_id,
      status: r.status,
      paid: r.paid,
      paymentMethod: r.payment_method,
      createdAt: r.created_at,
      productId: r.product_id,
      amount: r.amount,
      isUpgrade: r.is_upgrade,
      autoRenew: r.auto_renew,
      source: r.source,
      upgradeFromLevel: r.upgrade_from_level,
      upgradeMs: r.upgrade_ms === null ? null : Number(r.upgrade_ms),
      upgradeQuotedAt: r.upgrade_quoted_at,
      planLevel: r.plan_level,
      planDays: r.plan_days,
    };
  }

  /**
   * Marks the locked order paid by its first payment (and an upgrade's shortfall, null for other
   * orders). The caller saw it unpaid under its lock, so exactly one row changes; anything else
   * throws, and the settling transaction (its grant included) rolls back rather than commit a grant
   * for an order that is not marked paid.
   */
  async markPaid(
    m: EntityManager,
    orderId: string,
    p: { paymentNo: string; transactionId: string | null; paidAt: Date; upgradeShortfall: number | null },
  ): Promise<void> {
    const marked = await preparedQueryIn(
      m,
      'fulfil-mark-order-paid',
      `UPDATE orders SET status = 'paid', paid_at = $2, transaction_id = $3, payment_no = $4, upgrade_shortfall = $5, updated_at = now()
        WHERE id = $1 AND paid_at IS NULL AND status = ANY($6) RETURNING id`,
      [orderId, p.paidAt, p.transactionId, p.paymentNo, p.upgradeShortfall, PAYABLE],
    );
    if (marked.length !== 1)
      throw new Error(`order ${orderId} could not be marked paid (not found, paid already, or in no payable status)`);
  }

  /**
   * markPaid, sent in one statement with the writes that come with it (the member's ledger, and the
   * outbox row of `event`, an orderEventAppend): one round trip for the settlement's writes. Checks
   * the same: exactly one order row changes, or it throws and the transaction rolls back. Returns
   * the outbox row's id and created_at.
   */
  async markPaidWith(
    m: EntityManager,
    orderId: string,
    p: { paymentNo: string; transactionId: string | null; paidAt: Date; upgradeShortfall: number | null },
    writes: StatementPart[],
    event: StatementPart,
  ): Promise<{ id: string; created_at: Date }> {
    const [row] = await runParts<{ marked: number; id: string; created_at: Date }>(
      m,
      [
        ...writes,
        event,
        {
          key: 'fulfil-mark-order-paid',
          ctes: `order_marked AS (
             UPDATE orders SET status = 'paid', paid_at = $2, transaction_id = $3, payment_no = $4, upgrade_shortfall = $5, updated_at = now()
              WHERE id = $1 AND paid_at IS NULL AND status = ANY($6) RETURNING id)`,
          values: [orderId, p.paidAt, p.transactionId, p.paymentNo, p.upgradeShortfall, PAYABLE],
        },
      ],
      {
        key: 'paid',
        text: `SELECT (SELECT count(*)::int FROM order_marked) AS marked, e.id, e.created_at FROM ${ORDER_EVENT_ADDED} e`,
        values: [],
      },
    );
    if (row?.marked !== 1) throw new Error(`order ${orderId} could not be marked paid (not found, paid already, or in no payable status)`);
    return row;
  }
}
