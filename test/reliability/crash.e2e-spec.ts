import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { TokenService } from '../../src/auth/token.service';
import { buildAppConfig } from '../../src/config/app-config';
import { freePort } from '../../src/common/net';
import { TEST_JWT_SECRET } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { connect, createTestDatabase, TestDatabase } from '../support/db';
import { expectInvariants } from '../support/invariants';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';
import { connectClient } from '../support/ws-client';

const token = (user: string) => new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() })).sign(user);

/** The embedded database of a service process, reached the way the service reaches it. */
function embeddedUrl(output: string): string {
  const pgData = /PostgreSQL data in (\S+)/.exec(output)![1];
  const port = readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n')[3].trim();
  const password = readFileSync(join(dirname(pgData), 'postgres.password'), 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

describe.each(['external', 'embedded'] as const)('SIGKILL in the middle of settling (%s database)', (kind) => {
  let sb: Sandbox;
  let db: TestDatabase | undefined;
  let dataDir: string;
  let service: ServiceProcess | undefined;
  let pgData: string | undefined;
  beforeAll(async () => {
    sb = await startTestSandbox();
    if (kind === 'external') db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'memberpay-crash-'));
  });
  afterAll(async () => {
    if (service) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await db?.drop();
    await sb?.close();
    rmSync(dataDir, { recursive: true, force: true });
    if (pgData) rmSync(dirname(pgData), { recursive: true, force: true });
  });
  withInvariants(() => db?.url);

  it("leaves no partial state, and the provider's resends complete every payment after restart", async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      CREATE_ORDER_RATE_LIMIT: '1000',
      ...(db ? { DATABASE_URL: db.url } : {}),
      ...providerEnv(sb, port),
      PORT: String(port),
    };
    service = await spawnService(env);
    const orders = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        fetch(`http://127.0.0.1:${port}/api/v1/payment/create-order`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token(`crash-${i}`)}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: i % 2 ? 'alipay' : 'wechat' }),
        }).then((r) => r.json() as Promise<{ order_no: string; qr_code_url: string }>),
      ),
    );

    const paying = orders.map((o) => sandboxCall(sb, 'POST', '/sandbox/pay', { qr: o.qr_code_url }));
    await new Promise((r) => setTimeout(r, 15));
    service.child.kill('SIGKILL');
    await service.exited;
    await Promise.all(paying);

    service = await spawnService(env);
    pgData = /PostgreSQL data in (\S+)/.exec(service.output())?.[1];
    const url = db?.url ?? embeddedUrl(service.output());
    const pg: Client = await connect(url);
    try {
      // No partial state right after the restart: every order is either fully settled or untouched.
      const { rows: mid } = await pg.query(`
        SELECT o.status, pr.status AS record, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants
          FROM orders o JOIN payment_records pr ON pr.payment_no = o.payment_no`);
      for (const row of mid)
        expect([
          { status: 'paid', record: 'success', grants: 1 },
          { status: 'pending', record: 'pending', grants: 0 },
        ]).toContainEqual(row);

      const deadline = Date.now() + 90_000;
      let paid = 0;
      while (Date.now() < deadline) {
        paid = (await pg.query(`SELECT count(*)::int AS n FROM orders WHERE status = 'paid'`)).rows[0].n;
        if (paid === orders.length) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(paid).toBe(orders.length);
      await expectInvariants(pg);
      // The member's app reconnects after the crash and still hears of each payment, once.
      for (const i of [0, 1]) {
        const client = await connectClient(`http://127.0.0.1:${port}`, { token: token(`crash-${i}`), lastEventId: '0' });
        try {
          await client.waitFor((r) => r.event === 'order.paid' && r.message.order_no === orders[i].order_no);
          expect(client.received.map((r) => r.event)).toEqual(['order.paid']);
        } finally {
          client.close();
        }
      }
    } finally {
      await pg.end();
    }
  });
});
