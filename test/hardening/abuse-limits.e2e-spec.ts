import { randomBytes } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { useApp } from '../support/lifecycle';
import { createOrder } from '../support/orders';
import { providerEnv } from '../support/sandbox';
import { connectClient, EventClient } from '../support/ws-client';
import { casesWithRedis } from '../support/redis';
import { TcpProxy } from '../support/tcp-proxy';

const uid = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;
const refusal = (url: string, token: string, headers?: Record<string, string>) =>
  connectClient(url, { token, headers }).then(
    (c) => {
      c.close();
      return null;
    },
    (e: { message: string; data?: { code: string } }) => e,
  );

describe.each(
  casesWithRedis([
    ['in memory', {}],
    ['in Redis', { REDIS_URL: `redis://127.0.0.1:6379/0?keyPrefix=${uid('abuse')}:` }],
  ]),
)('abuse limits (%s)', (_name, extra) => {
  const { t, sb } = useApp(
    (port) => ({
      ...providerEnv(sb, port),
      CREATE_ORDER_RATE_LIMIT: '100',
      ORDER_ACTION_RATE_LIMIT: '12',
      PUBLIC_RATE_LIMIT: '5',
      AUTH_FAILURE_RATE_LIMIT: '4',
      CALLBACK_RATE_LIMIT: '1000',
      WS_CONNECTIONS_PER_USER: '2',
      TRUST_PROXY: 'loopback',
      ...extra,
    }),
    { sandbox: true },
  );

  const as = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });

  it('an order has at most 10 QR codes, then a 409 that says to create a new order', async () => {
    const user = uid('attempts');
    const order = await createOrder(t, user);
    for (let i = 2; i <= 10; i++) await t.http.post(`/api/v1/payment/orders/${order.order_no}/qr-code`).set(as(user)).expect(200);
    const refused = await t.http.post(`/api/v1/payment/orders/${order.order_no}/qr-code`).set(as(user)).expect(409);
    expect(refused.body).toMatchObject({ code: 'ORDER_NOT_PAYABLE' });
    expect(refused.body.message).toMatch(/create a new order/);
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`,
      [order.order_no],
    );
    expect(rows[0].n).toBe(10);
  });

  it('qr-code and cancel share a per-member budget (429 beyond it); another member is not affected', async () => {
    const user = uid('actions');
    const orders = [await createOrder(t, user), await createOrder(t, user)];
    // 12 actions a minute: 8 new codes on one order, then cancels and new codes on the other.
    for (let i = 0; i < 8; i++) await t.http.post(`/api/v1/payment/orders/${orders[0].order_no}/qr-code`).set(as(user)).expect(200);
    for (let i = 0; i < 2; i++) await t.http.post(`/api/v1/payment/orders/${orders[1].order_no}/qr-code`).set(as(user)).expect(200);
    await t.http.post(`/api/v1/payment/orders/${orders[1].order_no}/cancel`).set(as(user)).expect(200);
    await t.http.post(`/api/v1/payment/orders/${orders[1].order_no}/cancel`).set(as(user)).expect(200);
    const limited = await t.http.post(`/api/v1/payment/orders/${orders[0].order_no}/cancel`).set(as(user)).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    // The standard header (RFC 9110), seconds to wait, and no header named after the budget.
    expect(limited.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(Object.keys(limited.headers).filter((h) => h.startsWith('retry-after-'))).toEqual([]);
    await t.http.post(`/api/v1/payment/orders/${orders[0].order_no}/qr-code`).set(as(user)).expect(429);
    // Reading is not an action, and another member has a budget of their own.
    await t.http.get(`/api/v1/payment/orders/${orders[0].order_no}`).set(as(user)).expect(200);
    const other = uid('actions-other');
    const theirs = await createOrder(t, other);
    await t.http.post(`/api/v1/payment/orders/${theirs.order_no}/cancel`).set(as(other)).expect(200);
  });

  it('unauthenticated routes are limited per client address (X-Forwarded-For from a trusted proxy); socket.io handshakes count too', async () => {
    const address = `203.0.113.${1 + (randomBytes(1)[0] % 200)}`;
    const from = (a: string) => ({ 'X-Forwarded-For': a });
    await t.http.get('/health').set(from(address)).expect(200);
    await t.http.get('/api/v1/membership/plans').set(from(address)).expect(200);
    await t.http.get('/payment/return').set(from(address)).expect(200);
    await t.http.get('/health/ready').set(from(address)).expect(200);
    await t.http.get('/api/v1/membership/plans').set(from(address)).expect(200);
    const limited = await t.http.get('/api/v1/membership/plans').set(from(address)).expect(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED' });
    await t.http.get('/health').set(from(address)).expect(429);
    // Another client address is not affected; the authenticated API is not on this budget.
    await t.http.get('/api/v1/membership/plans').set(from('198.51.100.7')).expect(200);
    await t.http
      .get('/api/v1/membership/me')
      .set(from(address))
      .set(as(uid('me')))
      .expect(200);
    // A socket.io handshake from the limited address is refused the same way.
    const err = await refusal(t.url, t.token(uid('ws')), from(address));
    expect(err?.data?.code).toBe('RATE_LIMITED');
    (await connectClient(t.url, { token: t.token(uid('ws')), headers: from('198.51.100.8') })).close();
  });

  it('failed authentications have a budget of their own per client address, tighter than the public one: 429 beyond it', async () => {
    const address = `203.0.113.${201 + (randomBytes(1)[0] % 50)}`;
    const from = (a: string) => ({ 'X-Forwarded-For': a });
    const bad = { Authorization: 'Bearer not-a-token' };
    for (let i = 0; i < 4; i++) {
      const res = await t.http
        .get('/api/v1/membership/me')
        .set(from(address))
        .set(i % 2 ? bad : {});
      expect([res.status, res.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
    const limited = await t.http.get('/api/v1/payment/orders').set(from(address)).set(bad).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    expect(limited.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    await t.http.get('/api/v1/admin/refunds').set(from(address)).set(bad).expect(429);
    // Only failures count: a member with a valid token from that address is served; another address still hears 401.
    await t.http
      .get('/api/v1/membership/me')
      .set(from(address))
      .set(as(uid('me')))
      .expect(200);
    await t.http.get('/api/v1/membership/me').set(from('198.51.100.9')).set(bad).expect(401);
  });

  it('provider callbacks have a budget of their own, far above the public one: retries are not refused', async () => {
    const address = '192.0.2.77';
    for (let i = 0; i < 6; i++) await t.http.get('/health').set('X-Forwarded-For', address);
    await t.http.get('/health').set('X-Forwarded-For', address).expect(429);
    // The same sender's notifications (here unsigned, so refused on their merits, never rate limited).
    for (let i = 0; i < 30; i++) {
      const res = await t.http
        .post('/api/v1/payment/wechat/callback')
        .set('X-Forwarded-For', address)
        .set('Content-Type', 'application/json')
        .send('{}');
      expect(res.status).toBe(400);
    }
  });

  it('caps socket.io connections per member; a closed connection frees its place', async () => {
    const user = uid('ws-cap');
    // Each handshake from an address of its own, so the per-address budget is not what refuses.
    let n = 0;
    const headers = () => ({ 'X-Forwarded-For': `198.18.0.${++n}` });
    const connect = (u: string) => connectClient(t.url, { token: t.token(u), headers: headers() });
    const open: EventClient[] = [await connect(user), await connect(user)];
    const refused = await refusal(t.url, t.token(user), headers());
    expect(refused?.data?.code).toBe('RATE_LIMITED');
    expect(refused?.message).toMatch(/At most 2 connections/);
    (await connect(uid('ws-other'))).close();
    open[0].close();
    // The server sees the close shortly; until then the place is still taken.
    let again: EventClient | null = null;
    while (!again) {
      again = await connect(user).catch(() => null);
      if (!again) await new Promise((r) => setTimeout(r, 50));
    }
    open.push(again);
    for (const c of open) c.close();
  });
});

/**
 * /metrics is on no budget: Prometheus takes a refused scrape for a target that is down. It may
 * be, because a scrape costs the database nothing: it answers from memory, even while every
 * statement to the database hangs.
 */
describe('the Prometheus scrape', () => {
  let proxy: TcpProxy;
  let t: TestApp;
  beforeAll(async () => {
    const admin = new URL(process.env.MEMBERPAY_TEST_ADMIN_URL!);
    proxy = await new TcpProxy(admin.hostname, Number(admin.port || 5432)).start();
    t = await startTestApp({ PUBLIC_RATE_LIMIT: '2', TRUST_PROXY: 'loopback' }, { databaseUrl: (url) => proxy.url(url) });
  });
  afterAll(async () => {
    proxy?.cut(); // the statements held below fail, and the service can stop
    await t?.close();
    await proxy?.stop();
  });

  it('is never rate limited and never waits for the database', async () => {
    const scrape = () => t.http.get('/metrics').set('X-Forwarded-For', '192.0.2.200');
    for (let i = 0; i < 2; i++) await t.http.get('/health').set('X-Forwarded-For', '192.0.2.200').expect(200);
    await t.http.get('/health').set('X-Forwarded-For', '192.0.2.200').expect(429); // the address is over the public budget
    for (let i = 0; i < 5; i++) expect((await scrape()).status).toBe(200);
    proxy.holdReplies();
    for (let i = 0; i < 3; i++) {
      const res = await scrape();
      expect(res.status).toBe(200);
      expect(res.text).toContain('memberpay_reconciliation_runs_total');
    }
  });
});
