import { QueryPaymentsJob } from '../../src/payments/query-payments.job';
import { connectClient, EventClient, eventFor } from '../support/ws-client';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { createOrder as createOrderFor, payAtSandbox } from '../support/orders';

const MINUTE = 60_000;

describe('the active query', () => {
  let job: QueryPaymentsJob;
  const clients: EventClient[] = [];
  // QR codes and orders outlive the whole query schedule here, so no cap shortens it.
  const { t, sb } = useApp(
    (port) => ({
      ...providerEnv(sb, port),
      PROVIDER_TIMEOUT_MS: '1500',
      QR_CODE_EXPIRE_MINUTES: '60',
      ORDER_EXPIRE_MINUTES: '120',
      PAYMENT_QUERY_RETRY_MAX: '5',
    }),
    { sandbox: true },
  );
  beforeAll(() => {
    job = t.app.get(QueryPaymentsJob);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  const createOrder = (user: string, method: 'wechat' | 'alipay' = 'wechat') => createOrderFor(t, user, { payment_method: method });
  const pay = (qr: string, delivery: string) => payAtSandbox(sb, qr, { delivery });
  const attempt = async (orderNo: string) =>
    (
      await t.db.query(
        `SELECT r.status, r.query_count, r.next_query_at, r.created_at, r.trade_state, o.status AS order_status
     FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`,
        [orderNo],
      )
    ).rows[0];
  const counts = async (orderNo: string) =>
    (
      await t.db.query(
        `SELECT (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
            (SELECT array_agg(e.type ORDER BY e.id) FROM order_events e WHERE e.order_id = o.id) AS events
     FROM orders o WHERE o.order_no = $1`,
        [orderNo],
      )
    ).rows[0];
  const after = (from: Date, ms: number) => new Date(from.getTime() + ms);

  it.each(['wechat', 'alipay'] as const)(
    'settles a payment through %s whose notification was dropped, and pushes order.paid',
    async (method) => {
      const user = `dropped-${method}`;
      const client = await connectClient(t.url, { token: t.token(user) });
      clients.push(client);
      const order = await createOrder(user, method);
      expect((await pay(order.qr_code_url, 'drop')).status).toBe(200);
      const { created_at: createdAt } = await attempt(order.order_no);

      await job.run(after(createdAt, 50_000));
      expect(await attempt(order.order_no)).toMatchObject({ status: 'pending', query_count: 0, order_status: 'pending' });

      await job.run(after(createdAt, MINUTE + 1000));
      expect(await attempt(order.order_no)).toMatchObject({ status: 'success', query_count: 1, next_query_at: null, order_status: 'paid' });
      expect(await counts(order.order_no)).toEqual({ grants: 1, events: ['order.paid'] });
      await client.waitFor(eventFor('order.paid', order.order_no));
      const me = await t.http
        .get('/api/v1/membership/me')
        .set({ Authorization: `Bearer ${t.token(user)}` })
        .expect(200);
      expect(me.body).toMatchObject({ active: true, level: 1 });
    },
  );

  it('settles once when the notification races the query and comes again later', async () => {
    const order = await createOrder('late-notify');
    const held = (await pay(order.qr_code_url, 'none')).body.notification;
    const { created_at: createdAt } = await attempt(order.order_no);
    const now = after(createdAt, MINUTE + 1000);
    const [answer] = await Promise.all([
      fetch(`${t.url}/api/v1/payment/wechat/callback`, { method: 'POST', headers: held.headers, body: held.body }),
      job.run(now),
    ]);
    expect(answer.status).toBeLessThan(300);
    const late = await fetch(`${t.url}/api/v1/payment/wechat/callback`, { method: 'POST', headers: held.headers, body: held.body });
    expect(late.status).toBeLessThan(300);
    expect(await attempt(order.order_no)).toMatchObject({ status: 'success', order_status: 'paid' });
    expect(await counts(order.order_no)).toEqual({ grants: 1, events: ['order.paid'] });
  });

  it('queries an unpaid attempt 1, 2, 4, 8 and 16 minutes after it was opened, then stops', async () => {
    const order = await createOrder('never-pays');
    const { created_at: createdAt } = await attempt(order.order_no);
    const schedule = [];
    for (const minutes of [1, 2, 4, 8, 16, 32]) {
      await job.run(after(createdAt, minutes * MINUTE + 1000)); // created_at has microseconds; Date has not
      const row = await attempt(order.order_no);
      schedule.push([minutes, row.query_count, row.next_query_at && (row.next_query_at.getTime() - createdAt.getTime()) / MINUTE]);
    }
    expect(schedule).toEqual([
      [1, 1, 2],
      [2, 2, 4],
      [4, 3, 8],
      [8, 4, 16],
      [16, 5, null],
      [32, 5, null],
    ]);
    expect(await attempt(order.order_no)).toMatchObject({ status: 'pending', order_status: 'pending', trade_state: null });
  });

  it('leaves an attempt the provider failed on for the next run', async () => {
    const order = await createOrder('provider-down');
    await pay(order.qr_code_url, 'drop');
    const { created_at: createdAt } = await attempt(order.order_no);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'query', mode: 'error-500' });
    const now = after(createdAt, MINUTE + 1000);
    const failed = await job.run(now);
    expect(failed.failed).toBeGreaterThanOrEqual(1);
    expect(await attempt(order.order_no)).toMatchObject({ status: 'pending', query_count: 0, next_query_at: now });

    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
    await job.run(now);
    expect(await attempt(order.order_no)).toMatchObject({ status: 'success', query_count: 1, order_status: 'paid' });
  });
});
