import fc from 'fast-check';
import { memberMoney } from '../support/invariants';
import { useApp } from '../support/lifecycle';
import { CreatedOrder, payAtSandbox } from '../support/orders';
import { refundRow, requestRefund } from '../support/refunds';
import { providerEnv } from '../support/sandbox';

/**
 * The money property through the API on the database: random lives of a few members (orders
 * created, paid at the sandbox in any order and several at once, paid twice, refunded by support
 * in full or in part, keeping the days or not), then, from the rows, the days each member holds are worth no more than what the member
 * paid minus what was refunded (plus what support conceded). The pure functions are covered with
 * many more lives in src/membership/membership-money.spec.ts; this is the same property with the
 * real settlement, refunds and ledger rebuild in between.
 */
describe('the money property through the API', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), CREATE_ORDER_RATE_LIMIT: '1000' }), { sandbox: true });

  type Step =
    | { kind: 'create'; plan: number; upgrade: boolean }
    | { kind: 'pay'; order: number }
    | { kind: 'payAtOnce'; orders: number[] }
    | { kind: 'payTwice'; order: number }
    | { kind: 'refund'; order: number }
    | { kind: 'partialRefund'; order: number; percent: number; keep: boolean };
  const step: fc.Arbitrary<Step> = fc.oneof(
    // Basic purchases and renewals, upgrades to premium, and now and then anything (often refused).
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('create' as const), plan: fc.integer({ min: 1, max: 3 }), upgrade: fc.constant(false) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('create' as const), plan: fc.integer({ min: 4, max: 6 }), upgrade: fc.constant(true) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('create' as const), plan: fc.integer({ min: 1, max: 6 }), upgrade: fc.boolean() }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('pay' as const), order: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('payAtOnce' as const), orders: fc.array(fc.nat(), { minLength: 2, maxLength: 3 }) }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('payTwice' as const), order: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('refund' as const), order: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('partialRefund' as const),
        order: fc.nat(),
        percent: fc.integer({ min: 1, max: 99 }),
        keep: fc.boolean(),
      }),
    },
  );

  interface Held {
    order: CreatedOrder;
    paid: boolean;
    refunded: boolean;
    /** Fen refunded by support so far (partial refunds). */
    refundedFen: number;
  }

  /** Polls until `done` holds or 10 s pass (the caller asserts afterwards). */
  async function waitFor(done: () => Promise<boolean>) {
    for (const deadline = Date.now() + 10_000; !(await done()) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 25));
  }

  async function live(user: string, steps: Step[]): Promise<string[]> {
    const orders: Held[] = [];
    const log: string[] = [];
    const pick = (i: number, which: (o: Held) => boolean) => {
      const some = orders.filter(which);
      return some.length ? some[i % some.length] : null;
    };
    const unpaid = (o: Held) => !o.paid;
    const pay = async (o: Held) => {
      o.paid = true;
      const res = await payAtSandbox(sb, o.order.qr_code_url);
      expect(res.body).toMatchObject({ delivered: true });
    };
    for (const s of steps) {
      if (s.kind === 'create') {
        const res = await t.http
          .post('/api/v1/payment/create-order')
          .set('Authorization', `Bearer ${t.token(user)}`)
          .send({ product_type: 'membership', product_id: s.plan, payment_method: 'wechat', is_upgrade: s.upgrade });
        // What the member may not buy now is a 409 that creates nothing.
        expect([201, 409]).toContain(res.status);
        if (res.status === 201) orders.push({ order: res.body, paid: false, refunded: false, refundedFen: 0 });
        log.push(
          `create plan ${s.plan}${s.upgrade ? ' upgrade' : ''}: ${res.status === 201 ? `${res.body.order_no} ${res.body.amount} fen` : 'refused'}`,
        );
      } else if (s.kind === 'pay') {
        const o = pick(s.order, unpaid);
        if (!o) continue;
        await pay(o);
        log.push(`pay ${o.order.order_no}`);
      } else if (s.kind === 'payAtOnce') {
        const group = [...new Set(s.orders.map((i) => pick(i, unpaid)).filter((o): o is Held => o !== null))];
        await Promise.all(group.map(pay));
        log.push(`pay at once ${group.map((o) => o.order.order_no).join(' ')}`);
      } else if (s.kind === 'payTwice') {
        // Paid without us being told, the code refreshed (which finds the payment and settles the
        // order), then the new code paid too: a double payment, refunded by itself.
        const o = pick(s.order, unpaid);
        if (!o) continue;
        o.paid = true;
        expect((await payAtSandbox(sb, o.order.qr_code_url, { delivery: 'none' })).status).toBe(200);
        await t.http
          .post(`/api/v1/payment/orders/${o.order.order_no}/qr-code`)
          .set('Authorization', `Bearer ${t.token(user)}`)
          .expect(409);
        const {
          rows: [second],
        } = await t.db.query(
          `SELECT r.qr_code_url FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1 AND r.status = 'pending'`,
          [o.order.order_no],
        );
        expect((await payAtSandbox(sb, second.qr_code_url)).body).toMatchObject({ delivered: true });
        log.push(`pay ${o.order.order_no} twice`);
      } else if (s.kind === 'refund') {
        // All that is left of the order.
        const o = pick(s.order, (x) => x.paid && !x.refunded);
        if (!o) continue;
        o.refunded = true;
        const res = await requestRefund(t, o.order.order_no, { reason: 'property' }).expect(202);
        expect(await refundRow(t, res.body.refund_no)).toMatchObject({ status: 'success' });
        log.push(`refund ${o.order.order_no}`);
      } else {
        // Part of what is left: its days go with it, unless support keeps them (a concession).
        const o = pick(s.order, (x) => x.paid && !x.refunded && x.order.amount - x.refundedFen >= 2);
        if (!o) continue;
        const amount = Math.max(1, Math.floor(((o.order.amount - o.refundedFen) * s.percent) / 100));
        o.refundedFen += amount;
        const body = { amount, reason: 'property', ...(s.keep ? { membership: 'keep' } : {}) };
        const res = await requestRefund(t, o.order.order_no, body).expect(202);
        expect(await refundRow(t, res.body.refund_no)).toMatchObject({ status: 'success' });
        log.push(`refund ${amount} of ${o.order.order_no}${s.keep ? ', keeping the days' : ''}`);
      }
    }
    // Double payments are refunded after their settlement commits: let them finish.
    await waitFor(async () => {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM refunds f JOIN orders o ON o.id = f.order_id WHERE o.user_id = $1 AND f.status = 'processing'`,
        [user],
      );
      return rows[0].n === 0;
    });
    return log;
  }

  it('holds for random lives: days held worth no more than paid − refunded + conceded', async () => {
    let member = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 6, maxLength: 14 }), async (steps) => {
        const user = `money-${member++}`;
        const log = await live(user, steps);
        const money = (await memberMoney(t.db)).find((m) => m.user === user);
        if (!money) return; // nothing was paid, nothing is held
        const net = money.paid - money.refunded + money.conceded;
        const held = `${money.held.numerator}/${money.held.denominator}`;
        expect({ user, log, held, net: String(net), holds: money.held.numerator <= net * money.held.denominator }).toMatchObject({
          holds: true,
        });
        // Every upgrade's shortfall is at most what it cost.
        const { rows } = await t.db.query(
          `SELECT order_no, amount, upgrade_shortfall FROM orders WHERE user_id = $1 AND upgrade_shortfall > amount`,
          [user],
        );
        expect(rows).toEqual([]);
      }),
      // A handful of members: each life is a few seconds of real payments and refunds.
      { numRuns: 10, seed: 20261206, endOnFailure: true },
    );
  }, 180_000);
});
