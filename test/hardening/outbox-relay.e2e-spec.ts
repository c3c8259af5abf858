import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/common/net';
import { startTestApp, TestApp, TEST_JWT_SECRET } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { connect, createTestDatabase, TestDatabase } from '../support/db';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';
import { TcpProxy } from '../support/tcp-proxy';
import { connectClient, EventClient, eventFor } from '../support/ws-client';
import { describeWithRedis } from '../support/redis';

/**
 * Instance A commits a payment and dies before it can push order.paid; a client connected to
 * instance B (sharing the database and Redis) still gets the event, without reconnecting.
 */
describeWithRedis('events committed by an instance that dies before pushing them', () => {
  const redisUrl = `redis://127.0.0.1:6379/0?keyPrefix=memberpay-relay-${randomBytes(6).toString('hex')}:`;
  let sb: Sandbox;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let a: ServiceProcess | undefined;
  let b: TestApp;
  let client: EventClient | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-relay-'));
  beforeAll(async () => {
    sb = await startTestSandbox();
    db = await createTestDatabase();
    const u = new URL(db.url);
    proxy = await new TcpProxy(u.hostname, Number(u.port || 5432)).start();
    b = await startTestApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), REDIS_URL: redisUrl }), { sharedDatabase: db });
  });
  afterAll(async () => {
    client?.close();
    if (a && a.child.exitCode === null) {
      a.child.kill('SIGKILL');
      await a.exited;
    }
    await b?.close();
    await proxy?.stop();
    await db?.drop();
    await sb?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  withInvariants(() => b?.db);

  it("reaches the member's client on another instance through the relay, once", async () => {
    const port = await freePort();
    a = await spawnService({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: proxy.url(db.url),
      REDIS_URL: redisUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      ...providerEnv(sb, port, { wechat: true }),
      PORT: String(port),
    });
    const user = 'relay-1';
    client = await connectClient(b.url, { token: b.token(user) });
    const order = (await (
      await fetch(`http://127.0.0.1:${port}/api/v1/payment/create-order`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${b.token(user)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false }),
      })
    ).json()) as { order_no: string; qr_code_url: string };
    const { notification } = (await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url, delivery: 'none' })).body;

    // A's settling transaction commits in PostgreSQL, but A never hears so: it cannot push. Then it dies.
    // (Nothing else of A commits meanwhile: its jobs do not run under NODE_ENV=test.)
    proxy.holdRepliesAfter('COMMIT');
    const answer = fetch(`http://127.0.0.1:${port}/api/v1/payment/wechat/callback`, {
      method: 'POST',
      headers: notification.headers,
      body: notification.body,
    }).then(
      (r) => r.status,
      () => 'no answer',
    );
    const pg = await connect(db.url);
    try {
      while ((await pg.query(`SELECT status FROM orders WHERE order_no = $1`, [order.order_no])).rows[0].status !== 'paid') {
        await new Promise((r) => setTimeout(r, 20));
      }
      a.child.kill('SIGKILL');
      await a.exited;
      expect(await answer).toBe('no answer');
      const { rows } = await pg.query(`SELECT id, published_at FROM order_events WHERE type = 'order.paid' AND user_id = $1`, [user]);
      expect(rows).toHaveLength(1); // committed by A, never announced before it died…

      // …and B's relay pushes it to the client connected there, which never reconnected.
      const got = await client.waitFor(eventFor('order.paid', order.order_no), 20_000);
      expect(got.message.id).toBe(String(rows[0].id));
      expect(client.socket.connected).toBe(true);
      const {
        rows: [after],
      } = await pg.query(`SELECT published_at FROM order_events WHERE id = $1`, [rows[0].id]);
      expect(after.published_at).not.toBeNull();
      expect(client.received.filter((r) => r.event === 'order.paid')).toHaveLength(1);
      expect((await b.http.get('/metrics')).text).toMatch(/^memberpay_outbox_relayed_total 1$/m);
    } finally {
      await pg.end();
    }
  });
});
