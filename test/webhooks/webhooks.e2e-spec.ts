import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TestApp } from '../support/app';
import { useApp } from '../support/lifecycle';
import { createOrder } from '../support/orders';
import { paidOrder, requestRefund } from '../support/refunds';
import { activeContract } from '../support/contracts';
import { providerEnv } from '../support/sandbox';
import { until, WebhookReceiver } from '../support/webhook-receiver';
import { WebhookSender } from '../../src/notifications/webhooks/webhook-sender';
import { WebhookUrlPolicy, WebhookUrlRefused } from '../../src/notifications/webhooks/webhook-url-policy';

const ALL_EVENTS = ['order.paid', 'order.refunded', 'order.expired', 'order.closed', 'membership.changed'];

/** Registers an endpoint as admin and gives its receiver the secret shown once. */
async function register(t: TestApp, receiver: WebhookReceiver, events = ALL_EVENTS, url = receiver.url) {
  const res = await t.http
    .post('/api/v1/admin/webhook-endpoints')
    .set('Authorization', `Bearer ${t.adminToken('admin-1')}`)
    .send({ url, events, description: 'test receiver' })
    .expect(201);
  receiver.secrets = [res.body.secret];
  return res.body as { id: string; secret: string };
}

const admin = (t: TestApp) => `Bearer ${t.adminToken('admin-1')}`;

describe('service webhooks', () => {
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const r = new WebhookReceiver();
    await r.start();
    receivers.push(r);
    return r;
  };

  // The retry schedule in units of 10 ms instead of a minute: 10 ms, 50 ms, 300 ms, 1.2 s … for 43 s.
  const { t, sb } = useApp(
    (port) => ({
      ...providerEnv(sb, port, { wechat: true }),
      WEBHOOK_RETRY_BASE_MS: '10',
      WEBHOOK_TIMEOUT_MS: '500',
    }),
    { sandbox: true },
  );
  afterAll(async () => {
    for (const r of receivers) await r.stop();
  });

  /** Deletes every endpoint, so that each test hears only its own. */
  afterEach(async () => {
    await t.db.query('DELETE FROM webhook_endpoints');
  });

  describe('endpoints (admin API)', () => {
    it('shows the secret once, and is for admins only', async () => {
      const r = await receiver();
      for (const token of [t.token('member-1'), t.serviceToken('content-service')]) {
        const res = await t.http
          .post('/api/v1/admin/webhook-endpoints')
          .set('Authorization', `Bearer ${token}`)
          .send({ url: r.url, events: ['order.paid'] });
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
      const created = await register(t, r, ['order.paid', 'membership.changed']);
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      const listed = await t.http.get('/api/v1/admin/webhook-endpoints').set('Authorization', admin(t)).expect(200);
      expect(listed.body.data).toHaveLength(1);
      expect(JSON.stringify(listed.body)).not.toContain(created.secret);
      expect(listed.body.data[0]).toMatchObject({
        id: created.id,
        url: r.url,
        events: ['order.paid', 'membership.changed'],
        enabled: true,
      });
      expect(listed.body.data[0].secret).toBeUndefined();

      const patched = await t.http
        .patch(`/api/v1/admin/webhook-endpoints/${created.id}`)
        .set('Authorization', admin(t))
        .send({ events: ['order.closed'], enabled: false })
        .expect(200);
      expect(patched.body).toMatchObject({ events: ['order.closed'], enabled: false });
      await t.http.delete(`/api/v1/admin/webhook-endpoints/${created.id}`).set('Authorization', admin(t)).expect(204);
      const gone = await t.http.get(`/api/v1/admin/webhook-endpoints/${created.id}`).set('Authorization', admin(t)).expect(404);
      expect(gone.body.code).toBe('NOT_FOUND');
    });

    it.each([
      ['an unknown event type', { url: 'http://127.0.0.1:9/x', events: ['order.created'] }],
      ['no event type', { url: 'http://127.0.0.1:9/x', events: [] }],
      ['a URL that is not http(s)', { url: 'ftp://127.0.0.1/x', events: ['order.paid'] }],
      ['a URL with credentials', { url: 'http://user:pw@127.0.0.1:9/x', events: ['order.paid'] }],
      ['no URL', { events: ['order.paid'] }],
    ])('refuses %s with a 400 and saves nothing', async (_name, body) => {
      const res = await t.http.post('/api/v1/admin/webhook-endpoints').set('Authorization', admin(t)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect((await t.db.query('SELECT count(*)::int AS n FROM webhook_endpoints')).rows[0].n).toBe(0);
    });
  });

  it('delivers every event signed, with the outbox id, and membership.changed with the new entitlement', async () => {
    const r = await receiver();
    await register(t, r);
    const user = 'wh-shape';
    const paid = await paidOrder(t, sb, user);
    const pending = await createOrder(t, user);
    await t.http
      .post(`/api/v1/payment/orders/${pending.order_no}/cancel`)
      .set('Authorization', `Bearer ${t.token(user)}`)
      .expect(200);
    await requestRefund(t, paid.order_no, { reason: 'test' }).expect(202);

    const outbox = async () =>
      (await t.db.query(`SELECT id::text, type, created_at FROM order_events WHERE user_id = $1 ORDER BY id`, [user])).rows as {
        id: string;
        type: string;
        created_at: Date;
      }[];
    await until(async () => (await outbox()).some((e) => e.type === 'order.refunded'), 'the refund to succeed');
    const rows = await outbox();
    const expected = rows.flatMap((e) =>
      e.type === 'order.paid' || e.type === 'order.refunded' ? [e.id, `${e.id}:membership.changed`] : [e.id],
    );
    await until(() => expected.every((id) => r.deliveredCount(id) > 0), 'every event at the receiver');
    expect(r.rejected).toEqual([]);
    for (const id of expected) expect(r.deliveredCount(id)).toBe(1);
    for (const req of r.requests) expect(req.headers['memberpay-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const byId = new Map(r.delivered.map((e) => [e.id, e]));
    for (const row of rows) {
      const event = byId.get(row.id)!;
      expect(event.type).toBe(row.type);
      expect(event.created_at).toBe(row.created_at.toISOString());
      expect(event.data.user_id).toBe(user);
    }
    const paidEvent = byId.get(rows.find((e) => e.type === 'order.paid')!.id)!;
    expect(paidEvent.data).toMatchObject({ order_no: paid.order_no, amount: paid.amount, currency: 'CNY' });
    const granted = byId.get(`${rows.find((e) => e.type === 'order.paid')!.id}:membership.changed`)!;
    expect(granted.type).toBe('membership.changed');
    expect(granted.data).toMatchObject({ user_id: user, active: true, level: 1, plan_code: 'basic_monthly', cause: 'order.paid' });
    expect(granted.data.expires_at).toBe(paidEvent.data.membership.expires_at);
    const revoked = byId.get(`${rows.find((e) => e.type === 'order.refunded')!.id}:membership.changed`)!;
    expect(revoked.data).toMatchObject({
      user_id: user,
      active: false,
      level: null,
      expires_at: null,
      periods: [],
      cause: 'order.refunded',
    });
  });

  it("membership.changed names the member's auto-renewal as GET /entitlements does", async () => {
    const r = await receiver();
    await register(t, r, ['membership.changed']);
    const user = 'wh-renewing';
    await paidOrder(t, sb, user);
    await until(() => r.delivered.some((e) => e.data.user_id === user), 'the first membership.changed');
    expect(r.delivered.find((e) => e.data.user_id === user)!.data).toMatchObject({ auto_renew: false, in_grace: false });

    await activeContract(t.app, t.db, sb, user, 'wechat');
    const second = await paidOrder(t, sb, user);
    await until(() => r.delivered.some((e) => e.data.order_no === second.order_no), "the second order's membership.changed");
    const changed = r.delivered.find((e) => e.data.order_no === second.order_no)!;
    const entitlement = (
      await t.http
        .get(`/api/v1/entitlements/${user}`)
        .set('Authorization', `Bearer ${t.serviceToken('content-service')}`)
        .expect(200)
    ).body;
    expect(entitlement).toMatchObject({ auto_renew: true, in_grace: false, grace_ends_at: null });
    expect(changed.data).toMatchObject({
      auto_renew: entitlement.auto_renew,
      in_grace: entitlement.in_grace,
      grace_ends_at: entitlement.grace_ends_at,
      expires_at: entitlement.expires_at,
      level: entitlement.level,
    });
  });

  it('a receiver that answers 500, times out, closes the connection and is down gets every event exactly once by id, in order per member', async () => {
    const r = await receiver();
    const endpoint = await register(t, r, ['order.paid']);
    r.mode = 'error';
    const a1 = await paidOrder(t, sb, 'wh-a');
    const a2 = await paidOrder(t, sb, 'wh-a');
    const b1 = await paidOrder(t, sb, 'wh-b');
    const ids = (
      await t.db.query(
        `SELECT e.id::text FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.order_no = ANY($1) AND e.type = 'order.paid' ORDER BY e.id`,
        [[a1.order_no, a2.order_no, b1.order_no]],
      )
    ).rows.map((x) => x.id as string);
    const [idA1, idA2, idB1] = ids;
    const attemptsOf = (id: string) => r.requests.filter((q) => q.id === id).length;

    await until(() => attemptsOf(idA1) >= 2 && attemptsOf(idB1) >= 2, 'two failed attempts of each member’s first event');
    // wh-a's second event waits behind its first: a member's events reach an endpoint in order.
    expect(attemptsOf(idA2)).toBe(0);

    r.mode = 'hang';
    await until(() => r.held.size > 0, 'a request left unanswered');
    const hangs = r.requests.length;
    r.mode = 'close';
    await until(() => r.requests.length > hangs && r.requests[r.requests.length - 1].answered === 'none', 'a connection closed');
    const port = r.port;
    await r.stop();
    const down = new Date();
    const refused = async () =>
      (
        await t.db.query(
          `SELECT count(*)::int AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
            WHERE d.endpoint_id = $1 AND a.attempted_at > $2 AND a.status_code IS NULL`,
          [endpoint.id, down],
        )
      ).rows[0].n > 0;
    await until(refused, 'an attempt while the receiver is down');
    r.mode = 'ok';
    await r.start(port);
    await until(() => ids.every((id) => r.deliveredCount(id) > 0), 'every event delivered after the receiver came back');

    expect(r.rejected).toEqual([]);
    for (const id of ids) expect(r.deliveredCount(id)).toBe(1);
    const order = r.delivered.map((e) => e.id);
    expect(order.indexOf(idA1)).toBeLessThan(order.indexOf(idA2));
    const history = await t.http
      .get(`/api/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?status=delivered&limit=100`)
      .set('Authorization', admin(t))
      .expect(200);
    const a1History = history.body.data.find((d: any) => d.event_id === idA1);
    expect(a1History.attempts.map((a: any) => a.status_code)).toEqual(expect.arrayContaining([500, null, 200]));
    expect(a1History.attempts.at(-1)).toMatchObject({ status_code: 200, response_body: '{"received":true}' });
  });

  it('signs with both secrets for a day after a rotation', async () => {
    const r = await receiver();
    const endpoint = await register(t, r, ['order.paid']);
    const old = endpoint.secret;
    const rotated = await t.http
      .post(`/api/v1/admin/webhook-endpoints/${endpoint.id}/rotate-secret`)
      .set('Authorization', admin(t))
      .expect(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(old);
    expect(Date.parse(rotated.body.previous_secret_expires_at) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    r.secrets = [rotated.body.secret]; // a receiver that already rolled
    await paidOrder(t, sb, 'wh-rotate');
    await until(() => r.delivered.length === 1, 'the delivery');
    const request = r.requests.find((q) => q.answered === 200)!;
    const header = String(request.headers['memberpay-signature']);
    const [tPart, ...v1] = header.split(',');
    expect(v1).toHaveLength(2);
    const ts = tPart.slice(2);
    const hmac = (secret: string) => `v1=${createHmac('sha256', secret).update(`${ts}.${request.body}`).digest('hex')}`;
    expect(v1).toEqual([hmac(rotated.body.secret), hmac(old)]); // a receiver that has not rolled yet verifies too
  });

  it('follows no redirect, keeps the first 1 KB of each answer, and redelivers on request', async () => {
    const r = await receiver();
    const redirector: Server = createServer((_req, res) => res.writeHead(302, { location: r.url }).end('x'.repeat(3000)));
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = await register(t, r, ['order.paid'], `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/hooks`);
      await paidOrder(t, sb, 'wh-redirect');
      const deliveries = async () =>
        (await t.http.get(`/api/v1/admin/webhook-endpoints/${endpoint.id}/deliveries`).set('Authorization', admin(t)).expect(200)).body
          .data;
      await until(async () => (await deliveries())[0]?.attempts.length >= 2, 'two attempts').catch(async (e) => {
        console.log(JSON.stringify(await deliveries()), JSON.stringify((await t.db.query('SELECT * FROM webhook_attempts')).rows));
        throw e;
      });
      const [delivery] = await deliveries();
      expect(delivery.status).toBe('pending');
      expect(delivery.attempts[0]).toMatchObject({ status_code: 302, response_body: 'x'.repeat(1024) });
      expect(r.requests).toHaveLength(0); // the redirect led nowhere

      await t.http.patch(`/api/v1/admin/webhook-endpoints/${endpoint.id}`).set('Authorization', admin(t)).send({ url: r.url }).expect(200);
      await until(() => r.delivered.length === 1, 'the delivery at the new URL');
      await until(async () => (await deliveries())[0].status === 'delivered', 'the delivery recorded');
      const again = await t.http
        .post(`/api/v1/admin/webhook-deliveries/${delivery.id}/redeliver`)
        .set('Authorization', admin(t))
        .expect(202);
      expect(again.body).toMatchObject({ id: delivery.id, event_id: delivery.event_id, status: 'pending' });
      await until(() => r.delivered.length === 2, 'the redelivery');
      expect(r.delivered[1]).toEqual(r.delivered[0]); // the same event, same id
      await t.http.post('/api/v1/admin/webhook-deliveries/999999999/redeliver').set('Authorization', admin(t)).expect(404);
      await t.http.post('/api/v1/admin/webhook-deliveries/abc/redeliver').set('Authorization', admin(t)).expect(400);
    } finally {
      await new Promise((resolve) => redirector.close(resolve));
    }
  });

  describe('in production, addresses are checked when sending', () => {
    const policy = new WebhookUrlPolicy(true);
    const sender = new WebhookSender(policy, 2_000);
    afterAll(() => sender.close());

    it.each([
      ['http', (r: WebhookReceiver) => r.url],
      ['a loopback address', (r: WebhookReceiver) => `https://127.0.0.1:${r.port}/hooks`],
      ['an IPv4-mapped loopback address', (r: WebhookReceiver) => `https://[::ffff:127.0.0.1]:${r.port}/hooks`],
      ['localhost', (r: WebhookReceiver) => `https://localhost:${r.port}/hooks`],
      ['the metadata address', () => 'https://169.254.169.254/latest/meta-data/'],
      ['a private address', () => 'https://10.0.0.1/hooks'],
    ])('refuses %s without connecting', async (_name, url) => {
      const r = await receiver();
      const result = await sender.send({ url: url(r), body: '{}', headers: {} });
      expect(result.ok).toBe(false);
      expect(result.statusCode).toBeNull();
      expect(result.error).toMatch(/^refused: /);
      expect(r.requests).toHaveLength(0);
      expect(policy.problem(url(r))).not.toBeNull();
    });

    it('refuses a name that resolves to a loopback address at the look-up', async () => {
      const error = await new Promise<Error | null>((resolve) => policy.lookup('localhost', { all: true }, (e) => resolve(e)));
      expect(error).toBeInstanceOf(WebhookUrlRefused);
      expect(new WebhookUrlPolicy(false).problem('http://127.0.0.1:9000/hooks')).toBeNull();
    });
  });
});
