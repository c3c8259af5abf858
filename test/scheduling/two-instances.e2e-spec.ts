import { ExpireOrdersJob } from '../../src/orders/expire-orders.job';
import { ExpireQrCodesJob } from '../../src/payments/expire-qr-codes.job';
import type { JobReport } from '../../src/common/jobs/job-report';
import { QueryPaymentsJob } from '../../src/payments/query-payments.job';
import { startTestApp, TestApp } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';

const ORDERS = 16;
const BATCH = 3;

/** Two instances of the service on one database, running the jobs at the same moment. */
describe('jobs on two instances at once', () => {
  let sb: Sandbox;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    sb = await startTestSandbox();
    a = await startTestApp((port) => providerEnv(sb, port));
    b = await startTestApp((port) => providerEnv(sb, port), { sharedDatabase: a.database });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await sb?.close();
  });
  withInvariants(() => a?.db);

  /** Half WeChat Pay, half Alipay; every other one paid by the buyer with the notification lost. */
  async function ordersWithLostNotifications(prefix: string) {
    const made = [];
    for (let i = 0; i < ORDERS; i++) {
      const user = `${prefix}-${i}`;
      const order = (
        await a.http
          .post('/api/v1/payment/create-order')
          .set({ Authorization: `Bearer ${a.token(user)}` })
          .send({ product_type: 'membership', product_id: 1, payment_method: i % 4 < 2 ? 'wechat' : 'alipay', is_upgrade: false })
          .expect(201)
      ).body;
      const paid = i % 2 === 0;
      if (paid) expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url, delivery: 'drop' })).status).toBe(200);
      made.push({ orderNo: order.order_no as string, paid });
    }
    return made;
  }

  /** Runs a job on one instance in batches until it finds nothing more, adding up its reports. */
  async function drain(run: (now: Date, limit: number) => Promise<JobReport>, now: Date): Promise<JobReport> {
    const total: JobReport = { claimed: 0, failed: 0 };
    for (;;) {
      const report = await run(now, BATCH);
      for (const [k, v] of Object.entries(report)) total[k] = (total[k] ?? 0) + v;
      // Done when a run found nothing to do: no claim, and (expiry) no order left to expire; a run
      // that claimed nothing may still have expired a batch of orders whose attempts the other closed.
      if (Object.entries(report).every(([k, v]) => k === 'failed' || v === 0)) return total;
    }
  }

  const state = async (orderNos: string[]) =>
    (
      await a.db.query(
        `SELECT o.order_no, o.status,
            (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
            (SELECT array_agg(e.type ORDER BY e.id) FROM order_events e WHERE e.order_id = o.id) AS events,
            (SELECT array_agg(r.query_count) FROM payment_records r WHERE r.order_id = o.id) AS queries
     FROM orders o WHERE o.order_no = ANY($1)`,
        [orderNos],
      )
    ).rows;
  const latest = async (column: 'created_at' | 'expire_at', orderNos: string[]) =>
    (await a.db.query(`SELECT max(${column}) AS at FROM orders WHERE order_no = ANY($1)`, [orderNos])).rows[0].at as Date;

  it('queries each attempt once between them and settles every paid order exactly once', async () => {
    const orders = await ordersWithLostNotifications('q');
    const nos = orders.map((o) => o.orderNo);
    const now = new Date((await latest('created_at', nos)).getTime() + 61_000);
    const [onA, onB] = await Promise.all(
      [a, b].map((t) => {
        const job = t.app.get(QueryPaymentsJob);
        return drain((at, limit) => job.run(at, limit), now);
      }),
    );

    expect(onA.claimed + onB.claimed).toBe(ORDERS);
    expect(onA.failed + onB.failed).toBe(0);
    expect(onA.paid + onB.paid).toBe(ORDERS / 2);
    for (const row of await state(nos)) {
      const paid = orders.find((o) => o.orderNo === row.order_no)!.paid;
      expect(row).toEqual(
        paid
          ? { order_no: row.order_no, status: 'paid', grants: 1, events: ['order.paid'], queries: [1] }
          : { order_no: row.order_no, status: 'pending', grants: 0, events: null, queries: [1] },
      );
    }
  });

  it('with every job running on both, expires each unpaid order once and settles each paid one once', async () => {
    const orders = await ordersWithLostNotifications('x');
    const nos = orders.map((o) => o.orderNo);
    const now = new Date((await latest('expire_at', nos)).getTime() + 1000);
    // Orders the previous test left pending are past expiry too.
    const [due] = (
      await a.db.query(
        `SELECT count(*)::int AS attempts, count(DISTINCT o.id)::int AS orders FROM orders o
       JOIN payment_records r ON r.order_id = o.id AND r.status = 'pending' WHERE o.status = 'pending' AND o.expire_at <= $1`,
        [now],
      )
    ).rows;
    expect(due.attempts).toBeGreaterThanOrEqual(ORDERS);
    const reports = await Promise.all(
      [a, b].flatMap((t) =>
        [ExpireOrdersJob, ExpireQrCodesJob, QueryPaymentsJob].map((type) => {
          const job = t.app.get<ExpireOrdersJob | ExpireQrCodesJob | QueryPaymentsJob>(type);
          return drain((at, limit) => job.run(at, limit), now);
        }),
      ),
    );
    const expiry = [reports[0], reports[3]];

    expect(expiry[0].claimed + expiry[1].claimed).toBe(due.attempts);
    expect(expiry[0].paid + expiry[1].paid).toBe(ORDERS / 2);
    expect(expiry[0].expired + expiry[1].expired).toBe(due.orders - ORDERS / 2);
    for (const row of await state(nos)) {
      const paid = orders.find((o) => o.orderNo === row.order_no)!.paid;
      expect(row).toMatchObject(
        paid ? { status: 'paid', grants: 1, events: ['order.paid'] } : { status: 'expired', grants: 0, events: ['order.expired'] },
      );
    }
  });
});
