// Random lives of a member with auto-renewal (renewal runs at random times, declines, a cancel, support
// refunds of renewal orders, a month bought by hand meanwhile), through the sandbox on both providers:
// after each life, the invariants (test/support/invariants.ts: no cycle charged twice, one cycle per
// renewal order, renewed = paid cycles, the money property: days held worth no more than paid − refunded
// + conceded) and the contract's own bookkeeping.
import fc from 'fast-check';
import type { ProviderName } from '../../src/payments/provider-name';
import { RenewalJob } from '../../src/subscriptions/renewal.job';
import { activeContract, until } from '../support/contracts';
import { expectInvariants, memberMoney } from '../support/invariants';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox } from '../support/orders';
import { refundRow, requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall } from '../support/sandbox';

const HOUR = 3_600_000;

type Step =
  | { kind: 'run'; hours: number }
  | { kind: 'decline' }
  | { kind: 'cancel' }
  | { kind: 'refund'; percent: number; keep: boolean }
  | { kind: 'buy' };

describe('auto-renewal: random lives keep the books straight', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

  const step: fc.Arbitrary<Step> = fc.oneof(
    // Runs of the job as of a later time: hours past the contract's next_run_at (0: exactly then).
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('run' as const), hours: fc.integer({ min: 0, max: 30 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('decline' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('refund' as const), percent: fc.integer({ min: 1, max: 100 }), keep: fc.boolean() }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('buy' as const) }) },
  );

  const paid = (user: string, orderNo: string) =>
    until(`${user}'s ${orderNo} paid`, async () => {
      const { rows } = await t.db.query(`SELECT status FROM orders WHERE order_no = $1`, [orderNo]);
      return rows[0].status === 'paid';
    });

  async function live(user: string, provider: ProviderName, steps: Step[]): Promise<string[]> {
    const log: string[] = [];
    const first = await createOrder(t, user, { payment_method: provider });
    await payAtSandbox(sb, first.qr_code_url);
    await paid(user, first.order_no);
    const contract = await activeContract(t.app, t.db, sb, user, provider);
    let asOf = new Date();
    for (const s of steps) {
      const c = (await t.db.query('SELECT * FROM contracts WHERE id = $1', [contract.id])).rows[0];
      if (s.kind === 'run') {
        const due = c.next_run_at ? new Date(c.next_run_at) : asOf;
        asOf = new Date(Math.max(asOf.getTime(), due.getTime()) + s.hours * HOUR);
        const report = await t.app.get(RenewalJob).run(asOf);
        log.push(`run as of ${asOf.toISOString()}: ${JSON.stringify(report)}`);
        // A WeChat deduction's result comes by callback: let it land before the next step.
        await until('no deduction in flight', async () => {
          const { rows } = await t.db.query(
            `SELECT count(*)::int AS n FROM payment_records pr JOIN orders o ON o.id = pr.order_id
              WHERE o.user_id = $1 AND pr.contract_id IS NOT NULL AND pr.status = 'pending'`,
            [user],
          );
          return rows[0].n === 0;
        });
      } else if (s.kind === 'decline') {
        await sandboxCall(sb, 'POST', '/sandbox/faults', { provider, op: 'deduct', mode: 'declined', times: 1 });
        log.push('the next deduction is declined');
      } else if (s.kind === 'cancel') {
        await t.http
          .post('/api/v1/membership/auto-renew/cancel')
          .set('Authorization', `Bearer ${t.token(user)}`)
          .expect(200);
        log.push('cancel');
      } else if (s.kind === 'refund') {
        const { rows } = await t.db.query(
          `SELECT order_no, amount, refunded_amount FROM orders WHERE user_id = $1 AND source = 'renewal'
              AND status IN ('paid', 'partially_refunded') ORDER BY created_at DESC LIMIT 1`,
          [user],
        );
        if (!rows.length) continue;
        const left = rows[0].amount - rows[0].refunded_amount;
        const amount = Math.max(1, Math.floor((left * s.percent) / 100));
        const res = await requestRefund(t, rows[0].order_no, {
          amount,
          reason: 'property',
          ...(s.keep ? { membership: 'keep' } : {}),
        }).expect(202);
        expect(await refundRow(t, res.body.refund_no)).toMatchObject({ status: 'success' });
        log.push(`refund ${amount} of ${rows[0].order_no}${s.keep ? ' keeping the days' : ''}`);
      } else {
        const more = await createOrder(t, user, { payment_method: provider });
        await payAtSandbox(sb, more.qr_code_url);
        await paid(user, more.order_no);
        log.push(`bought ${more.order_no} by hand`);
      }
    }
    // Double payments (a late success) are refunded after their settlement commits: let them finish.
    await until('no refund in flight', async () => {
      const { rows } = await t.db.query(
        `SELECT count(*)::int AS n FROM refunds f JOIN orders o ON o.id = f.order_id WHERE o.user_id = $1 AND f.status = 'processing'`,
        [user],
      );
      return rows[0].n === 0;
    });
    return log;
  }

  it('no cycle charged twice, value held never above value paid, the contract consistent', async () => {
    let member = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<ProviderName>('alipay', 'wechat'),
        fc.array(step, { minLength: 6, maxLength: 18 }),
        async (provider, steps) => {
          const user = `prop-${member++}`;
          const log = await live(user, provider, steps);
          try {
            await expectInvariants(t.db);
          } catch (e) {
            throw new Error(`${(e as Error).message}\nlife of ${user} (${provider}):\n${log.join('\n')}`, { cause: e });
          }
          const money = (await memberMoney(t.db)).find((m) => m.user === user)!;
          const net = money.paid - money.refunded + money.conceded;
          expect({ log, holds: money.held.numerator <= net * money.held.denominator }).toMatchObject({ holds: true });
          // Each paid cycle's period starts where the paid time it renewed ended (no overlap: the ledger's invariant).
          const { rows } = await t.db.query(
            `SELECT c.status, c.cycles_renewed, count(rc.*) FILTER (WHERE rc.status = 'paid')::int AS paid_cycles
             FROM contracts c LEFT JOIN renewal_cycles rc ON rc.contract_id = c.id WHERE c.user_id = $1 GROUP BY c.id`,
            [user],
          );
          for (const r of rows) expect(r.cycles_renewed).toBe(r.paid_cycles);
        },
      ),
      { numRuns: 12, seed: 20261207, endOnFailure: true },
    );
    // The lives went through what the property is about (else it would hold vacuously).
    const { rows } = await t.db.query(`
      SELECT (SELECT count(*) FROM renewal_cycles WHERE status = 'paid')::int AS renewed,
             (SELECT count(*) FROM payment_records WHERE contract_id IS NOT NULL AND status = 'failed')::int AS declined,
             (SELECT count(*) FROM contracts WHERE status IN ('cancelled', 'lapsed'))::int AS ended,
             (SELECT count(*) FROM refunds f JOIN orders o ON o.id = f.order_id WHERE o.source = 'renewal')::int AS refunded`);
    console.log(`renewal property: ${JSON.stringify(rows[0])}`);
    expect(rows[0]).toMatchObject({ renewed: expect.any(Number) });
    for (const n of Object.values(rows[0])) expect(n).toBeGreaterThan(0);
  }, 300_000);
});
