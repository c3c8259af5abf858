import { Client } from 'pg';
import { PaymentsService } from '../../src/payments/payments.service';
import type { PaymentEvent } from '../../src/payments/payment-provider';
import { useApp } from '../support/lifecycle';
import { createOrder } from '../support/orders';
import { providerEnv } from '../support/sandbox';

/**
 * What one settlement sends to PostgreSQL, counted on the connections (not timed): the statements of
 * the settling transaction, and the ledger rows it writes for a member who already has periods.
 * The statements are observed by wrapping pg's Client#query for the duration of one settlement (as
 * bench/trace-sql.ts does in the bench); nothing is changed or answered in their place.
 */
describe('the statements of one settlement', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), { sandbox: true });

  interface Seen {
    client: object;
    text: string;
  }
  /** Runs `fn`, recording every statement any pg client sent meanwhile (the test's own client apart). */
  async function recording<T>(fn: () => Promise<T>): Promise<{ result: T; seen: Seen[] }> {
    const seen: Seen[] = [];
    const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const original = proto.query;
    const own = t.db as unknown as object;
    proto.query = function (this: object, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      const text = typeof first === 'string' ? first : first?.text;
      if (this !== own && typeof text === 'string') seen.push({ client: this, text: text.replace(/\s+/g, ' ').trim() });
      return original.apply(this, args);
    };
    try {
      return { result: await fn(), seen };
    } finally {
      proto.query = original;
    }
  }

  /** The settling transaction (the one that inserted the grant), from its start to its commit. */
  function settlingTransaction(seen: Seen[]): string[] {
    const grant = seen.find((s) => s.text.includes('INSERT INTO membership_grants'));
    expect(grant).toBeDefined();
    const own = seen.filter((s) => s.client === grant!.client).map((s) => s.text);
    const at = own.findIndex((s) => s.includes('INSERT INTO membership_grants'));
    const start = own
      .slice(0, at)
      .map((s, i) => (/^(START TRANSACTION|BEGIN)/i.test(s) ? i : -1))
      .filter((i) => i >= 0)
      .pop()!;
    const end = own.findIndex((s, i) => i > at && /^COMMIT/i.test(s));
    return own.slice(start, end + 1);
  }

  async function pendingAttempt(user: string) {
    const order = await createOrder(t, user);
    const {
      rows: [r],
    } = await t.db.query(`SELECT r.payment_no, r.amount FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`, [
      order.order_no,
    ]);
    return { orderNo: order.order_no, paymentNo: r.payment_no as string, amount: r.amount as number };
  }
  const settle = (paymentNo: string, amountFen: number) => {
    const event: PaymentEvent = {
      provider: 'wechat',
      paymentNo,
      outcome: 'paid',
      tradeState: 'SUCCESS',
      providerTradeNo: `tx-${paymentNo}`,
      amountFen,
      paidAt: new Date(),
      payload: {},
    };
    return t.app.get(PaymentsService).settle(event, 'notification');
  };

  it('settles in one lookup and a transaction of at most 6 statements, writing only the periods that change', async () => {
    const user = 'statements-member';
    for (let i = 0; i < 3; i++) {
      const a = await pendingAttempt(user);
      expect(await settle(a.paymentNo, a.amount)).toEqual({ result: 'settled', orderNo: a.orderNo });
    }
    const a = await pendingAttempt(user);
    const { result, seen } = await recording(() => settle(a.paymentNo, a.amount));
    expect(result).toEqual({ result: 'settled', orderNo: a.orderNo });

    const tx = settlingTransaction(seen);
    // START, lock the order, lock and mark the attempt with the member's lock, the grant with the
    // member's standing grants, the writes (periods, order, outbox), COMMIT.
    expect(tx.length).toBeLessThanOrEqual(6);
    const outside = seen.filter((s) => s.text.includes('FROM payment_records WHERE payment_no') && !tx.includes(s.text));
    expect(outside).toHaveLength(1);

    // The fourth order's period is the only row of the member's ledger this transaction wrote: the
    // three before it are the rows their own settlements wrote (xmin: the writing transaction).
    const { rows } = await t.db.query(
      `SELECT o.order_no, p.xmin::text = g.xmin::text AS written_now
         FROM membership_periods p JOIN orders o ON o.id = p.order_id
         CROSS JOIN (SELECT xmin FROM membership_grants WHERE order_id = (SELECT id FROM orders WHERE order_no = $2)) g
        WHERE p.user_id = $1 ORDER BY p.starts_at`,
      [user, a.orderNo],
    );
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.written_now)).toEqual([false, false, false, true]);
    expect(rows[3].order_no).toBe(a.orderNo);
  });
});
