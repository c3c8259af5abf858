import { ExpireOrdersJob } from '../../src/orders/expire-orders.job';
import { ExpireQrCodesJob } from '../../src/payments/expire-qr-codes.job';
import { QueryPaymentsJob } from '../../src/payments/query-payments.job';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { connectClient } from '../support/ws-client';
import { createOrder as createOrderFor, postNotification } from '../support/orders';

const MINUTE = 60_000;

describe('races and provider faults around the jobs', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), PROVIDER_TIMEOUT_MS: '1000', CREATE_ORDER_RATE_LIMIT: '1000' }), {
    sandbox: true,
  });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const createOrder = (user: string, method = 'wechat') => createOrderFor(t, user, { payment_method: method });
  const jobs = () => [t.app.get(QueryPaymentsJob), t.app.get(ExpireOrdersJob), t.app.get(ExpireQrCodesJob)];

  it.each(['wechat', 'alipay'])(
    '%s: a notification, the active query and the expiry job racing on one order end paid once, with one order.paid',
    async (method) => {
      const rounds = 12;
      for (let i = 0; i < rounds; i++) {
        const user = `race-${method}-${i}`;
        const client = await connectClient(t.url, { token: t.token(user) });
        try {
          const order = await createOrder(user, method);
          const { body } = await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url, delivery: 'none' });
          const n = body.notification;
          // The notification, the active query (due in a minute) and the expiry (past 30 minutes), all at once.
          const [queryPayments, expireOrders, expireQr] = jobs();
          const now = Date.now();
          await Promise.all([
            postNotification(t, method, n),
            queryPayments.run(new Date(now + 2 * MINUTE)),
            expireOrders.run(new Date(now + 31 * MINUTE)),
            expireQr.run(new Date(now + 16 * MINUTE)),
            postNotification(t, method, n),
          ]);
          const {
            rows: [row],
          } = await t.db.query(
            `SELECT o.status, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
                  (SELECT array_agg(e.type ORDER BY e.id) FROM order_events e WHERE e.order_id = o.id) AS events
             FROM orders o WHERE o.order_no = $1`,
            [order.order_no],
          );
          expect(row).toEqual({ status: 'paid', grants: 1, events: ['order.paid'] });
          await client.waitFor((r) => r.event === 'order.paid' && r.message.order_no === order.order_no);
          await new Promise((r) => setTimeout(r, 50));
          expect(client.received.filter((r) => r.message.order_no === order.order_no).map((r) => r.event)).toEqual(['order.paid']);
        } finally {
          client.close();
        }
      }
    },
  );

  it.each([
    ['answers 500', 'error-500', 502],
    ['answers garbage', 'garbage', 502],
    ['hangs', 'hang', 504],
  ])('when the provider %s on close, cancel is a %s and the order stays pending', async (_n, mode, status) => {
    const order = await createOrder(`cancel-fault-${mode}`);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'close', mode });
    const started = Date.now();
    const res = await t.http
      .post(`/api/v1/payment/orders/${order.order_no}/cancel`)
      .set(auth(`cancel-fault-${mode}`))
      .expect(status);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(res.body.code).toBe(status === 504 ? 'PROVIDER_TIMEOUT' : 'PROVIDER_UNAVAILABLE');
    expect((await t.db.query(`SELECT status FROM orders WHERE order_no = $1`, [order.order_no])).rows[0].status).toBe('pending');
  });

  it.each([
    ['wechat', 'error-500'],
    ['wechat', 'garbage'],
    ['wechat', 'hang'],
    ['wechat', 'bad-signature'],
    ['alipay', 'error-500'],
    ['alipay', 'garbage'],
    ['alipay', 'hang'],
    ['alipay', 'bad-signature'],
  ])('jobs survive %s answering %s on query and close, and finish once it is back', async (method, mode) => {
    const orders = await Promise.all([0, 1, 2].map((i) => createOrder(`job-fault-${method}-${mode}-${i}`, method)));
    await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: orders[0].qr_code_url, delivery: 'drop' }); // paid, notification lost
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: method, op: '*', mode });
    const later = new Date(Date.now() + 31 * MINUTE);
    const started = Date.now();
    for (const job of jobs()) await job.run(later); // no throw, bounded by the provider timeout
    expect(Date.now() - started).toBeLessThan(30_000);
    const statuses = async () =>
      (
        await t.db.query(`SELECT order_no, status FROM orders WHERE order_no = ANY($1) ORDER BY order_no`, [orders.map((o) => o.order_no)])
      ).rows.map((r) => r.status);
    expect(await statuses()).toEqual(['pending', 'pending', 'pending']);

    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
    const after = new Date(later.getTime() + 5 * MINUTE); // past every lease the failed run may have left
    for (const job of jobs()) await job.run(after);
    const { rows } = await t.db.query(`SELECT order_no, status FROM orders WHERE order_no = ANY($1)`, [orders.map((o) => o.order_no)]);
    const byNo = Object.fromEntries(rows.map((r) => [r.order_no, r.status]));
    expect(byNo[orders[0].order_no]).toBe('paid');
    expect(byNo[orders[1].order_no]).toBe('expired');
    expect(byNo[orders[2].order_no]).toBe('expired');
  });
});
