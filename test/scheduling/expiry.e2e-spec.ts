import { SchedulerRegistry } from '@nestjs/schedule';
import { ExpireOrdersJob } from '../../src/orders/expire-orders.job';
import { ExpireQrCodesJob } from '../../src/payments/expire-qr-codes.job';
import { QueryPaymentsJob } from '../../src/payments/query-payments.job';
import { SchedulingCron } from '../../src/scheduling/scheduling.cron';
import { connectClient, EventClient, eventFor } from '../support/ws-client';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { createOrder as createOrderFor, payAtSandbox } from '../support/orders';

const SECOND = 1000;

describe('order and QR code expiry', () => {
  let expireOrders: ExpireOrdersJob;
  let expireQrCodes: ExpireQrCodesJob;
  const clients: EventClient[] = [];
  const { t, sb } = useApp(
    (port) => ({
      ...providerEnv(sb, port, { wechat: true }),
      PROVIDER_TIMEOUT_MS: '1500',
      ORDER_EXPIRE_MINUTES: '30',
      QR_CODE_EXPIRE_MINUTES: '15',
    }),
    { sandbox: true },
  );
  beforeAll(() => {
    expireOrders = t.app.get(ExpireOrdersJob);
    expireQrCodes = t.app.get(ExpireQrCodesJob);
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const createOrder = (user: string) => createOrderFor(t, user);
  const pay = (qr: string, delivery = 'normal') => payAtSandbox(sb, qr, { delivery });
  const order = async (orderNo: string) =>
    (
      await t.db.query(
        `SELECT o.status, o.expire_at, o.payment_no, o.qr_code_expire_at,
            (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
            (SELECT array_agg(e.type ORDER BY e.id) FROM order_events e WHERE e.order_id = o.id) AS events,
            (SELECT array_agg(r.status ORDER BY r.created_at) FROM payment_records r WHERE r.order_id = o.id) AS attempts
     FROM orders o WHERE o.order_no = $1`,
        [orderNo],
      )
    ).rows[0];
  const trade = async (paymentNo: string) => (await sandboxCall(sb, 'GET', `/sandbox/trades/${paymentNo}`)).body;
  const after = (at: Date, ms: number) => new Date(at.getTime() + ms);

  it('registers no schedule under NODE_ENV=test: the tests drive the jobs', () => {
    expect(t.app.get(SchedulerRegistry).getIntervals()).toEqual([]);
  });

  it('never overlaps two runs of one job on an instance, and counts runs in /metrics', async () => {
    const cron = t.app.get(SchedulingCron);
    const first = cron.tick('expire-orders');
    expect(cron.tick('expire-orders')).toBe(first);
    await first;
    expect((await t.http.get('/metrics').expect(200)).text).toMatch(/^memberpay_job_runs_total\{job="expire-orders",outcome="ok"\} 1$/m);
  });

  it('expires an order left unpaid, closing it at the provider first, and pushes order.expired', async () => {
    const client = await connectClient(t.url, { token: t.token('unpaid-1') });
    clients.push(client);
    const created = await createOrder('unpaid-1');
    const before = await order(created.order_no);

    await expireOrders.run(after(before.expire_at, -SECOND));
    expect(await order(created.order_no)).toMatchObject({ status: 'pending', attempts: ['pending'] });

    const now = after(before.expire_at, SECOND);
    await expireOrders.run(now);
    expect(await order(created.order_no)).toMatchObject({ status: 'expired', attempts: ['closed'], events: ['order.expired'], grants: 0 });
    expect(await trade(before.payment_no)).toMatchObject({ state: 'CLOSED', closed_by: 'close' });
    const { message } = await client.waitFor(eventFor('order.expired', created.order_no));
    expect(message).toMatchObject({ type: 'order.expired', order_no: created.order_no, status: 'expired', at: now.toISOString() });
    expect((await pay(created.qr_code_url)).status).toBe(409);

    await expireOrders.run(after(now, 60 * SECOND));
    expect((await order(created.order_no)).events).toEqual(['order.expired']);
  });

  it('settles instead when the buyer paid and the notification was lost: a paid order never expires', async () => {
    const created = await createOrder('racer-1');
    await pay(created.qr_code_url, 'drop');
    const report = await expireOrders.run(after((await order(created.order_no)).expire_at, SECOND));
    expect(report.paid).toBeGreaterThanOrEqual(1);
    expect(await order(created.order_no)).toMatchObject({ status: 'paid', attempts: ['success'], events: ['order.paid'], grants: 1 });
  });

  it('ends paid, once, when the notification and the expiry run race', async () => {
    const created = await createOrder('racer-2');
    const held = (await pay(created.qr_code_url, 'none')).body.notification;
    const now = after((await order(created.order_no)).expire_at, SECOND);
    const [answer] = await Promise.all([
      fetch(`${t.url}/api/v1/payment/wechat/callback`, { method: 'POST', headers: held.headers, body: held.body }),
      expireOrders.run(now),
      expireOrders.run(now),
    ]);
    expect(answer.status).toBeLessThan(300);
    expect(await order(created.order_no)).toMatchObject({ status: 'paid', attempts: ['success'], events: ['order.paid'], grants: 1 });
  });

  it('leaves an order whose provider failed for the next run', async () => {
    const created = await createOrder('close-fails');
    const now = after((await order(created.order_no)).expire_at, SECOND);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'close', mode: 'error-500' });
    const failed = await expireOrders.run(now);
    expect(failed.failed).toBeGreaterThanOrEqual(1);
    expect(await order(created.order_no)).toMatchObject({ status: 'pending', attempts: ['pending'], events: null });

    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
    await expireOrders.run(now);
    expect(await order(created.order_no)).toMatchObject({ status: 'expired', attempts: ['closed'], events: ['order.expired'] });
  });

  it('closes an expired QR code at the provider and keeps the order payable with a fresh one', async () => {
    const created = await createOrder('qr-1');
    const before = await order(created.order_no);
    const report = await expireQrCodes.run(after(before.qr_code_expire_at, SECOND));
    expect(report.closed).toBeGreaterThanOrEqual(1);
    expect(await order(created.order_no)).toMatchObject({ status: 'pending', attempts: ['closed'], events: null });
    expect(await trade(before.payment_no)).toMatchObject({ state: 'CLOSED' });
    // Not queried any more: the QR expiry closed it.
    await t.app.get(QueryPaymentsJob).run(after(before.qr_code_expire_at, 2 * SECOND));
    expect(
      (await t.db.query('SELECT query_count FROM payment_records WHERE payment_no = $1', [before.payment_no])).rows[0].query_count,
    ).toBe(0);

    const fresh = await t.http.post(`/api/v1/payment/orders/${created.order_no}/qr-code`).set(auth('qr-1')).expect(200);
    expect(fresh.body.qr_code_url).not.toBe(created.qr_code_url);
    expect((await pay(fresh.body.qr_code_url)).body.delivered).toBe(true);
    expect(await order(created.order_no)).toMatchObject({ status: 'paid', attempts: ['closed', 'success'], grants: 1 });
  });

  it('expires an order whose QR code expired and was not renewed', async () => {
    const created = await createOrder('qr-2');
    const before = await order(created.order_no);
    await expireQrCodes.run(after(before.qr_code_expire_at, SECOND));
    const report = await expireOrders.run(after(before.expire_at, SECOND));
    expect(report.expired).toBeGreaterThanOrEqual(1);
    expect(await order(created.order_no)).toMatchObject({ status: 'expired', attempts: ['closed'], events: ['order.expired'] });
  });
  it('keeps orders whose close keeps failing from holding up the ones ready to expire after them', async () => {
    const stuck = [];
    for (const i of [1, 2, 3]) stuck.push(await createOrder(`stuck-${i}`));
    const ready = await createOrder('ready-1');
    // The QR expiry closes the ready order's code; the three others' closes fail and stay open.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'close', mode: 'error-500', times: 3 });
    await expireQrCodes.run(after((await order(ready.order_no)).qr_code_expire_at, SECOND));
    for (const o of stuck) expect(await order(o.order_no)).toMatchObject({ attempts: ['pending'] });
    expect(await order(ready.order_no)).toMatchObject({ status: 'pending', attempts: ['closed'] });

    // A run of two: both attempts it claims fail again, and the first page of expired orders is theirs.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'close', mode: 'error-500' });
    const report = await expireOrders.run(after((await order(ready.order_no)).expire_at, SECOND), 2);
    expect(report).toMatchObject({ claimed: 2, failed: 2, expired: 1 });
    expect(await order(ready.order_no)).toMatchObject({ status: 'expired', events: ['order.expired'] });
    for (const o of stuck) expect(await order(o.order_no)).toMatchObject({ status: 'pending', attempts: ['pending'] });
  });
  it('closes an attempt recorded without its order expiry (an instance on the previous code) and still expires its order', async () => {
    const created = await createOrder('rolling-1');
    const before = await order(created.order_no);
    await t.db.query(`UPDATE payment_records SET order_expire_at = NULL WHERE payment_no = $1`, [before.payment_no]);
    await expireOrders.run(after(before.qr_code_expire_at, SECOND));
    expect(await order(created.order_no)).toMatchObject({ status: 'pending', attempts: ['closed'] });
    await expireOrders.run(after(before.expire_at, SECOND));
    expect(await order(created.order_no)).toMatchObject({ status: 'expired', attempts: ['closed'], events: ['order.expired'] });
  });
});
