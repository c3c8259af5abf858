import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { freePort } from '../../src/common/net';
import { appendOrderEvent } from '../../src/outbox/order-events';
import { startTestApp, TEST_JWT_SECRET, TestApp } from '../support/app';
import { useApp } from '../support/lifecycle';
import { createTestDatabase, TestDatabase } from '../support/db';
import { createOrder } from '../support/orders';
import { paidOrder } from '../support/refunds';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';
import { until, WebhookReceiver } from '../support/webhook-receiver';
import { connectClient, eventFor } from '../support/ws-client';

const admin = (t: TestApp) => `Bearer ${t.adminToken('admin-1')}`;

async function register(t: TestApp, r: WebhookReceiver, events: string[]) {
  const res = await t.http.post('/api/v1/admin/webhook-endpoints').set('Authorization', admin(t)).send({ url: r.url, events }).expect(201);
  r.secrets = [res.body.secret];
  return res.body as { id: string; secret: string };
}

describe('webhook faults', () => {
  let sb: Sandbox;
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const r = new WebhookReceiver();
    await r.start();
    receivers.push(r);
    return r;
  };
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(async () => {
    for (const r of receivers) await r.stop();
    await sb?.close();
  });

  describe('three days of nothing but failures (a day of 1 ms)', () => {
    // The schedule's minute is 1 ms: the 3-day retry window is 4.3 s.
    const { t } = useApp((port) => ({
      ...providerEnv(sb, port, { wechat: true }),
      WEBHOOK_RETRY_BASE_MS: '1',
      WEBHOOK_TIMEOUT_MS: '500',
    }));

    it('marks the delivery failed and disables the endpoint, saying why; enabling it again clears that', async () => {
      const r = await receiver();
      r.mode = 'error';
      const endpoint = await register(t, r, ['order.paid']);
      await paidOrder(t, sb, 'wh-dead');
      const get = async () =>
        (await t.http.get(`/api/v1/admin/webhook-endpoints/${endpoint.id}`).set('Authorization', admin(t)).expect(200)).body;
      await until(async () => !(await get()).enabled, 'the endpoint to be disabled');
      const disabled = await get();
      expect(disabled.disabled_reason).toMatch(/^no delivery has succeeded for \d+ h; last attempt: HTTP 500$/);
      expect(disabled.disabled_at).not.toBeNull();
      const [delivery] = (
        await t.http
          .get(`/api/v1/admin/webhook-endpoints/${endpoint.id}/deliveries?status=failed`)
          .set('Authorization', admin(t))
          .expect(200)
      ).body.data;
      expect(delivery.status).toBe('failed');
      // Retried until the window closed (1, 5, 30, 120, 480, 1440 … ms apart), the last when it closed.
      expect(delivery.attempt_count).toBeGreaterThanOrEqual(6);
      expect(delivery.attempts).toHaveLength(delivery.attempt_count);
      expect(delivery.attempts.every((a: any) => a.status_code === 500 && a.response_body === 'receiver is broken')).toBe(true);

      r.mode = 'ok';
      const enabled = await t.http
        .patch(`/api/v1/admin/webhook-endpoints/${endpoint.id}`)
        .set('Authorization', admin(t))
        .send({ enabled: true })
        .expect(200);
      expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
      await t.http.post(`/api/v1/admin/webhook-deliveries/${delivery.id}/redeliver`).set('Authorization', admin(t)).expect(202);
      await until(() => r.delivered.length === 1, 'the redelivery');
      expect(r.delivered[0].id).toBe(delivery.event_id);
    });
  });

  describe('an instance killed mid-delivery', () => {
    let database: TestDatabase;
    let service: ServiceProcess | undefined;
    let b: TestApp | undefined;
    let dataDir: string;
    beforeAll(async () => {
      database = await createTestDatabase();
      dataDir = mkdtempSync(join(tmpdir(), 'memberpay-wh-kill-'));
    });
    afterAll(async () => {
      if (service && service.child.exitCode === null) {
        service.child.kill('SIGKILL');
        await service.exited;
      }
      await b?.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('loses nothing: another instance sends what it was sending, once its claim runs out', async () => {
      const r = await receiver();
      r.mode = 'hang';
      const port = await freePort();
      service = await spawnService({
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATA_DIR: dataDir,
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: database.url,
        WEBHOOK_TIMEOUT_MS: '2000',
        ...providerEnv(sb, port, { wechat: true }),
        PORT: String(port),
      });
      // The other instance, on the same database (it claims nothing while the first one's claim holds).
      b = await startTestApp(
        (p) => ({ ...providerEnv(sb, p, { wechat: true }), WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_RETRY_BASE_MS: '10' }),
        {
          sharedDatabase: database,
        },
      );
      const created = await fetch(`http://127.0.0.1:${port}/api/v1/admin/webhook-endpoints`, {
        method: 'POST',
        headers: { Authorization: admin(b), 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: r.url, events: ['order.paid'] }),
      });
      expect(created.status).toBe(201);
      r.secrets = [((await created.json()) as { secret: string }).secret];
      const order = (await (
        await fetch(`http://127.0.0.1:${port}/api/v1/payment/create-order`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${b.token('wh-kill')}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: 'wechat' }),
        })
      ).json()) as { order_no: string; qr_code_url: string };
      expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url })).body.delivered).toBe(true);

      await until(() => r.held.size > 0, 'a delivery in flight');
      const first = r.requests[0];
      service.child.kill('SIGKILL');
      await service.exited;
      r.mode = 'ok';
      await until(() => r.delivered.length > 0, 'the delivery by the surviving instance');
      expect(r.rejected).toEqual([]);
      expect(r.delivered.map((e) => e.id)).toEqual([first.id]);
      expect(r.delivered[0].data.order_no).toBe(order.order_no);
      const recorded = async () => (await b!.db.query(`SELECT status, attempts FROM webhook_deliveries`)).rows;
      await until(async () => (await recorded())[0]?.status === 'delivered', 'the delivery recorded');
      expect(await recorded()).toEqual([{ status: 'delivered', attempts: 2 }]);
    });
  });

  describe('1,000 events to three endpoints, one of them dead', () => {
    // A dead receiver's requests are never timed out during the test: it holds its share of the
    // attempts for as long as the others take.
    const { t } = useApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), WEBHOOK_TIMEOUT_MS: '300000' }));

    it('leaves the others and the member sockets unaffected, each member in order', async () => {
      const [fast1, fast2, dead] = [await receiver(), await receiver(), await receiver()];
      dead.mode = 'hang';
      for (const r of [fast1, fast2, dead]) await register(t, r, ['order.closed', 'order.paid']);

      // 1,000 events appended through the outbox's own writer, 100 for each of ten members' orders.
      const users = Array.from({ length: 10 }, (_, i) => `wh-load-${i}`);
      const orders = await Promise.all(users.map((u) => createOrder(t, u)));
      const dataSource = t.app.get(DataSource);
      const orderIds: string[] = [];
      for (const o of orders) orderIds.push((await t.db.query('SELECT id FROM orders WHERE order_no = $1', [o.order_no])).rows[0].id);
      await Promise.all(
        orders.map(async (o, i) => {
          const id = orderIds[i];
          for (let n = 0; n < 100; n += 25)
            await dataSource.transaction(async (m) => {
              for (let k = 0; k < 25; k++)
                await appendOrderEvent(m, id, users[i], o.order_no, 'order.closed', {
                  order_no: o.order_no,
                  status: 'closed',
                  at: new Date().toISOString(),
                });
            });
        }),
      );

      await until(() => dead.held.size > 0, 'the dead receiver holding requests');
      await until(
        () => fast1.delivered.length === 1000 && fast2.delivered.length === 1000,
        'all 1,000 events at both live receivers',
        120_000,
      );
      // The dead receiver has answered nothing and still holds its first attempts: the others got
      // every event while it blocked, and it never held more than its share.
      expect(dead.requests.every((q) => q.answered === 'none')).toBe(true);
      expect(dead.held.size).toBeGreaterThan(0);
      expect(dead.requests.length).toBeLessThanOrEqual(8);

      // The member's WebSocket is not behind it either.
      const client = await connectClient(t.url, { token: t.token('wh-load-socket') });
      try {
        const paid = await paidOrder(t, sb, 'wh-load-socket');
        await client.waitFor(eventFor('order.paid', paid.order_no));
      } finally {
        client.close();
      }
      expect(dead.requests.every((q) => q.answered === 'none')).toBe(true);

      for (const r of [fast1, fast2]) {
        expect(r.rejected).toEqual([]);
        expect(new Set(r.delivered.map((e) => e.id)).size).toBe(1000);
        for (const u of users) {
          const ids = r.delivered.filter((e) => e.data.user_id === u).map((e) => BigInt(e.id));
          expect(ids).toHaveLength(100);
          expect([...ids].sort((x, y) => (x < y ? -1 : 1))).toEqual(ids); // each member's events in order
        }
      }
      dead.mode = 'ok';
      for (const res of [...dead.held]) res.destroy();
    }, 240_000);
  });
});
