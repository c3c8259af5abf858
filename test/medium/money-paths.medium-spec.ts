import type { Client } from 'pg';
import { newOrderNo, newPaymentNo, newRefundNo } from '../../src/common/trade-numbers';
import { DAY_MS } from '../../src/membership/membership-ledger';
import { MembershipService } from '../../src/membership/membership.service';
import { OrderFulfilment } from '../../src/orders/order-fulfilment.service';
import { OrderRefundsRepository } from '../../src/orders/order-refunds.repository';
import { OrdersRepository } from '../../src/orders/orders.repository';
import { PaymentAttemptsService } from '../../src/payments/payment-attempts.service';
import type { PaymentEvent, RefundEvent } from '../../src/payments/payment-provider';
import { PaymentRecordsRepository } from '../../src/payments/payment-records.repository';
import { PaymentsService } from '../../src/payments/payments.service';
import { SettlementRepository } from '../../src/payments/settlement.repository';
import { RefundsRepository } from '../../src/refunds/refunds.repository';
import { RefundsService } from '../../src/refunds/refunds.service';
import { connect } from '../support/db';
import { moneyViolations } from '../support/invariants';
import { useServices } from '../support/services';

/**
 * The settle and refund paths through the services on a real database (no HTTP, no provider): the
 * exactly-once grant when notifications race, the lock order (the order, then the attempt; the
 * member last) that keeps settlements and refunds of one member from deadlocking, and the quote of
 * create-order under the member's lock.
 */
describe('the money paths on the database', () => {
  const s = useServices();
  const held: Client[] = [];
  afterEach(async () => {
    for (const c of held.splice(0)) await c.end().catch(() => undefined);
  });
  /** Another connection, as another transaction of the application would hold locks. */
  const holder = async () => {
    const c = await connect(s.database.url);
    held.push(c);
    return c;
  };

  /**
   * A pending order with its first attempt, as create-order records it (priced under the member's
   * lock), its QR code standing in for what a provider would answer.
   */
  async function order(userId: string, planId: number, isUpgrade = false, attempts = 1) {
    const membership = s.get(MembershipService);
    const orders = s.get(OrdersRepository);
    const plan = await membership.activePlan(planId);
    const now = new Date();
    const paymentNos = Array.from({ length: attempts }, () => newPaymentNo(now));
    const created = await orders.transaction(async (m) => {
      const { quote, quotedAt } = await membership.quoteUnderLock(m, userId, plan, isUpgrade);
      const o = await orders.insert(
        m,
        {
          orderNo: newOrderNo(now),
          userId,
          productType: 'membership',
          productId: plan.id,
          isUpgrade,
          amountFen: quote.amountFen,
          currency: 'CNY',
          description: `medium ${plan.code}`,
          status: 'pending',
          paymentMethod: 'wechat',
          expireAt: new Date(now.getTime() + 30 * 60_000),
          upgradeFromLevel: quote.upgrade?.fromLevel ?? null,
          upgradeMs: quote.upgrade ? String(quote.upgrade.ms) : null,
          upgradeQuotedAt: quote.upgrade ? quotedAt : null,
          channel: 'qr',
          channelOptions: null,
        },
        now,
      );
      for (const paymentNo of paymentNos) {
        await s.get(PaymentAttemptsService).record(m, {
          paymentNo,
          qrExpireAt: o.expireAt,
          orderExpireAt: o.expireAt,
          nextQueryAt: o.expireAt,
          orderId: o.id,
          method: 'wechat',
          amountFen: o.amountFen,
          channel: 'qr',
        });
        const qr = `weixin://wxpay/bizpayurl?pr=${paymentNo}`;
        await s.get(PaymentRecordsRepository).recordOpened(m, paymentNo, qr, { qr_code_url: qr });
        await orders.pointAtAttempt(m, o.id, paymentNo, qr, o.expireAt, { qr_code_url: qr });
      }
      return o;
    });
    return { id: created.id, orderNo: created.orderNo, amount: created.amountFen, paymentNos, quotedAt: created.upgradeQuotedAt };
  }

  const paid = (paymentNo: string, amountFen: number): PaymentEvent => ({
    provider: 'wechat',
    paymentNo,
    outcome: 'paid',
    tradeState: 'SUCCESS',
    providerTradeNo: `42${paymentNo.slice(-12)}`,
    amountFen,
    paidAt: new Date(),
    payload: { medium: true },
  });
  const settle = (paymentNo: string, amountFen: number) => s.get(PaymentsService).settle(paid(paymentNo, amountFen), 'notification');

  const row = async (sql: string, params: unknown[]) => (await s.db.query(sql, params)).rows;
  const grants = (orderId: string) => row(`SELECT kind, revoked_at FROM membership_grants WHERE order_id = $1`, [orderId]);
  const events = (orderId: string, type: string) => row(`SELECT id FROM order_events WHERE order_id = $1 AND type = $2`, [orderId, type]);
  const periods = (userId: string) =>
    row(`SELECT level, starts_at, ends_at FROM membership_periods WHERE user_id = $1 ORDER BY starts_at`, [userId]);

  /** Waits (polling, with a generous limit) until some transaction of this database waits for a lock. */
  async function someoneWaits(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      // Row locks are waited for on the holder's transaction id, a lock of no database: ask the sessions.
      const [{ n }] = await row(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        [],
      );
      if (n > 0) return;
      if (Date.now() > deadline) throw new Error('no transaction started waiting for a lock');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('settles an attempt once however many notifications of it race: one grant, one order.paid, the rest duplicates', async () => {
    const o = await order('medium-once', 1);
    const results = await Promise.all(Array.from({ length: 8 }, () => settle(o.paymentNos[0], o.amount)));
    expect(results.filter((r) => r.result === 'settled')).toHaveLength(1);
    expect(results.filter((r) => r.result === 'duplicate')).toHaveLength(7);
    expect(await grants(o.id)).toEqual([{ kind: 'add', revoked_at: null }]);
    expect(await events(o.id, 'order.paid')).toHaveLength(1);
    const [p] = await periods('medium-once');
    expect(p.ends_at.getTime() - p.starts_at.getTime()).toBe(30 * DAY_MS);
  });

  it("grants once when two attempts of one order are paid at once: the other is the order's double payment", async () => {
    const o = await order('medium-double', 1, false, 2);
    const results = await Promise.all(o.paymentNos.map((no) => settle(no, o.amount)));
    expect(results.map((r) => r.result).sort()).toEqual(['double_payment', 'settled']);
    expect(await grants(o.id)).toHaveLength(1);
    expect(await events(o.id, 'order.paid')).toHaveLength(1);
    const attempts = await row(`SELECT status, double_payment FROM payment_records WHERE order_id = $1 ORDER BY double_payment`, [o.id]);
    expect(attempts).toEqual([
      { status: 'success', double_payment: false },
      { status: 'success', double_payment: true },
    ]);
    // The double payment is refunded by itself (refunds' listener): wait until its refund exists, so
    // the invariants after this test see the books as they settle.
    const deadline = Date.now() + 30_000;
    while ((await row(`SELECT 1 FROM refunds WHERE order_id = $1 AND kind = 'duplicate_payment'`, [o.id])).length === 0) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it("settles one member's orders in any interleaving to the same ledger: a month and a quarter, 120 days without a gap", async () => {
    for (let round = 0; round < 4; round++) {
      const user = `medium-commute-${round}`;
      const [month, quarter] = [await order(user, 1), await order(user, 2)];
      const both = [() => settle(month.paymentNos[0], month.amount), () => settle(quarter.paymentNos[0], quarter.amount)];
      if (round % 2) both.reverse();
      expect((await Promise.all(both.map((f) => f()))).map((r) => r.result)).toEqual(['settled', 'settled']);
      const ps = await periods(user);
      expect(ps.map((p) => p.level)).toEqual([1, 1]);
      expect(ps[1].starts_at.getTime()).toBe(ps[0].ends_at.getTime());
      expect(ps[1].ends_at.getTime() - ps[0].starts_at.getTime()).toBe(120 * DAY_MS);
    }
  });

  it('locks the order before the attempt: a settlement waiting for the order holds no lock on the attempt', async () => {
    const o = await order('medium-lock-order', 1);
    const h = await holder();
    await h.query('BEGIN');
    await h.query('SELECT id FROM orders WHERE id = $1 FOR UPDATE', [o.id]);
    const settling = settle(o.paymentNos[0], o.amount);
    await someoneWaits();
    // Had the settlement locked the attempt first, this would be refused (55P03 lock_not_available).
    const other = await holder();
    await other.query('BEGIN');
    await expect(
      other.query('SELECT id FROM payment_records WHERE payment_no = $1 FOR UPDATE NOWAIT', [o.paymentNos[0]]),
    ).resolves.toBeDefined();
    await other.query('ROLLBACK');
    await h.query('COMMIT');
    expect((await settling).result).toBe('settled');
  });

  it('locks the order before the attempt: a settlement waiting for the attempt already holds the order', async () => {
    const o = await order('medium-lock-attempt', 1);
    const h = await holder();
    await h.query('BEGIN');
    await h.query('SELECT id FROM payment_records WHERE payment_no = $1 FOR UPDATE', [o.paymentNos[0]]);
    const settling = settle(o.paymentNos[0], o.amount);
    await someoneWaits();
    const other = await holder();
    await other.query('BEGIN');
    await expect(other.query('SELECT id FROM orders WHERE id = $1 FOR UPDATE NOWAIT', [o.id])).rejects.toMatchObject({ code: '55P03' });
    await other.query('ROLLBACK');
    await h.query('COMMIT');
    expect((await settling).result).toBe('settled');
  });

  /** A support refund of the order (all of it unless `amountFen`), recorded as processing (as support's request records it before the provider call). */
  async function supportRefund(o: { id: string; amount: number; paymentNos: string[] }, amountFen = o.amount) {
    const refund = await s.get(RefundsRepository).transaction((m) =>
      s.get(RefundsRepository).insert(m, {
        refundNo: newRefundNo(new Date()),
        orderId: o.id,
        paymentNo: o.paymentNos[0],
        paymentMethod: 'wechat',
        amountFen,
        kind: 'support',
        reason: 'medium',
        requestedBy: 'admin-medium',
        nextQueryAt: new Date(Date.now() + 60 * 60_000),
      }),
    );
    const succeeded: RefundEvent = {
      provider: 'wechat',
      refundNo: refund.refundNo,
      paymentNo: o.paymentNos[0],
      outcome: 'success',
      providerState: 'SUCCESS',
      providerRefundId: `50${refund.refundNo.slice(-12)}`,
      amountFen,
      succeededAt: new Date(),
      payload: {},
    };
    return { refund, succeeded };
  }

  it("applies a refund's success without the attempt's lock: the order, then the member, as a settlement takes them", async () => {
    const o = await order('medium-refund-lock', 1);
    await settle(o.paymentNos[0], o.amount);
    const { succeeded } = await supportRefund(o);
    const h = await holder();
    await h.query('BEGIN');
    await h.query('SELECT id FROM payment_records WHERE payment_no = $1 FOR UPDATE', [o.paymentNos[0]]);
    // Done while the attempt stays locked: the refund path never waits for it.
    expect(await s.get(RefundsService).applyEvent(succeeded, 'notification')).toBe('applied');
    await h.query('COMMIT');
    expect(await grants(o.id)).toEqual([{ kind: 'add', revoked_at: expect.any(Date) }]);
    expect(await periods('medium-refund-lock')).toEqual([]);
  });

  it("runs a member's refund and settlement together without a deadlock, the ledger as if the refunded order was never paid", async () => {
    for (let round = 0; round < 4; round++) {
      const user = `medium-refund-settle-${round}`;
      const refunded = await order(user, 1);
      await settle(refunded.paymentNos[0], refunded.amount);
      const { succeeded } = await supportRefund(refunded);
      const settling = await order(user, 2);
      const [applied, settled] = await Promise.all([
        s.get(RefundsService).applyEvent(succeeded, 'notification'),
        settle(settling.paymentNos[0], settling.amount),
      ]);
      expect([applied, settled.result]).toEqual(['applied', 'settled']);
      const ps = await periods(user);
      expect(ps).toHaveLength(1);
      expect(ps[0].ends_at.getTime() - ps[0].starts_at.getTime()).toBe(90 * DAY_MS);
    }
  });

  it("settles a member's order while a refund holds another of the member's orders: the ledger's rebuild does not wait for it", async () => {
    const user = 'medium-refund-holds';
    const refunded = await order(user, 1);
    await settle(refunded.paymentNos[0], refunded.amount);
    const settling = await order(user, 2);
    // A refund's transaction holding the paid order, as a refund's success does before it takes the
    // member's lock: the settlement's rebuild writes periods of that order (their foreign key takes
    // FOR KEY SHARE on its row) and must not wait, or the two would deadlock.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const lockTaken = new Promise<void>((r) => (locked = r));
    const refunding = s.get(RefundsRepository).transaction(async (m) => {
      await s.get(OrderRefundsRepository).lockById(m, refunded.id);
      locked();
      await gate;
    });
    await lockTaken;
    const outcome = await Promise.race([
      settle(settling.paymentNos[0], settling.amount).then((r) => r.result),
      someoneWaits().then(() => 'waits for a lock'),
    ]);
    release();
    await refunding;
    expect(outcome).toBe('settled');
  });

  it("takes back, with half an upgrade's price, time worth at least half of it, whichever of its days run first", async () => {
    // A basic quarter (72 fen a day short of premium) runs before a basic month (66.67): the time an
    // upgrade keeps after a partial refund is the first in line, the dearer days.
    const user = 'medium-upgrade-partial';
    for (const planId of [2, 1]) {
      const o = await order(user, planId);
      await settle(o.paymentNos[0], o.amount);
    }
    const upgrade = await order(user, 4, true);
    await settle(upgrade.paymentNos[0], upgrade.amount);
    const half = Math.floor(upgrade.amount / 2);
    const { succeeded } = await supportRefund(upgrade, half);
    expect(await s.get(RefundsService).applyEvent(succeeded, 'notification')).toBe('applied');
    // Time in proportion to the fen (60 of the 120 days) would keep the quarter's first 60, worth 4320
    // fen of premium where 4240 are left paid.
    expect(await moneyViolations(s.db)).toEqual([]);
    const [g] = await row(`SELECT converted_ms FROM membership_grants WHERE order_id = $1`, [upgrade.id]);
    expect(Number(g.converted_ms)).toBeLessThan(60 * DAY_MS);
  });

  it("quotes an upgrade under the member's lock: a settlement in progress commits first and its days are priced and converted", async () => {
    const user = 'medium-quote';
    const month = await order(user, 1);
    await settle(month.paymentNos[0], month.amount);
    const quarter = await order(user, 2);
    // The settlement of the quarter, as PaymentsService.settle runs it, held open before its commit.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const settling = s.get(OrdersRepository).transaction(async (m) => {
      const locked = (await s.get(OrderFulfilment).lockForSettlement(m, quarter.id))!;
      const payment = { paymentNo: quarter.paymentNos[0], transactionId: '4200000000', paidAt: new Date() };
      await s.get(SettlementRepository).lockAndMarkPaid(m, { ...payment, tradeState: 'SUCCESS', payload: {} }, quarter.amount, false);
      await s.get(OrderFulfilment).fulfil(m, locked, payment);
      await gate;
    });
    // The grant holds the member's lock now (an advisory lock); the upgrade's quote must wait for its commit.
    const deadline = Date.now() + 30_000;
    while (
      !(
        await row(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          [],
        )
      ).length
    ) {
      if (Date.now() > deadline) throw new Error('the settlement never took the member lock');
      await new Promise((r) => setTimeout(r, 20));
    }
    const upgrading = order(user, 4, true);
    await someoneWaits();
    release();
    await settling;
    const upgrade = await upgrading;
    const [quarterGrant] = await row(`SELECT granted_at FROM membership_grants WHERE order_id = $1`, [quarter.id]);
    expect(upgrade.quotedAt!.getTime()).toBeGreaterThan(quarterGrant.granted_at.getTime());
    const [{ upgrade_ms: upgradeMs }] = await row(`SELECT upgrade_ms FROM orders WHERE id = $1`, [upgrade.id]);
    // Priced on the month's days left and all of the quarter's.
    expect(Number(upgradeMs)).toBeGreaterThan(119 * DAY_MS);
    await settle(upgrade.paymentNos[0], upgrade.amount);
    // The basic days that ran before it was paid, then premium: the month's and the quarter's days converted.
    expect((await periods(user)).map((p) => p.level)).toEqual([1, 2]);
    const [g] = await row(`SELECT converted_ms, upgrade_quoted_ms, withdrawn_ms FROM membership_grants WHERE order_id = $1`, [upgrade.id]);
    // It converts what it was priced on, less the moments that ran at basic before it was paid.
    expect(Number(g.converted_ms) + Number(g.withdrawn_ms)).toBe(Number(g.upgrade_quoted_ms));
    expect(Number(g.upgrade_quoted_ms) - Number(g.converted_ms)).toBeLessThan(60_000);
  });
});
