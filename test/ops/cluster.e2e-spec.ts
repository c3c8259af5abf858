import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { TokenService } from '../../src/auth/token.service';
import { buildAppConfig } from '../../src/config/app-config';
import { freePort } from '../../src/common/net';
import { TEST_JWT_SECRET } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { connect, createTestDatabase, TestDatabase } from '../support/db';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';
import { connectClient, eventFor, EventClient } from '../support/ws-client';

/** The service as several processes on one port (WEB_CONCURRENCY / --workers), as ops would run it. */
describe('several service processes (--workers 2)', () => {
  let sb: Sandbox;
  let db: TestDatabase;
  let client: Client;
  let service: ServiceProcess | undefined;
  let dataDir: string;
  const sockets: EventClient[] = [];

  beforeAll(async () => {
    sb = await startTestSandbox();
    db = await createTestDatabase();
    client = await connect(db.url);
    dataDir = mkdtempSync(join(tmpdir(), 'memberpay-cluster-'));
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    if (service && service.child.exitCode === null) service.child.kill('SIGKILL');
    await client?.end();
    await db?.drop();
    await sb?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  withInvariants(() => client);

  const token = (user: string) => new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() })).sign(user);

  it('shares the port between two workers; a payment notified to either reaches the socket clients on both; drains on SIGTERM', async () => {
    const port = await freePort();
    // No REDIS_URL: the workers' socket.io servers hear each other through the cluster's primary.
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      ...providerEnv(sb, port),
    };
    service = await spawnService(env, 120_000, ['--workers', '2']);
    // Both workers up: each logs its own listening line.
    const deadline = Date.now() + 120_000;
    while ((service.output().match(/memberpay listening on port/g) ?? []).length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((service.output().match(/memberpay listening on port/g) ?? []).length).toBe(2);
    const workers = execFileSync('ps', ['-o', 'pid=', '--ppid', String(service.child.pid)], { encoding: 'utf8' })
      .trim()
      .split(/\s+/);
    expect(workers).toHaveLength(2);

    // Long-polling would need sticky sessions across workers: only the WebSocket transport is served.
    const polling = await fetch(`http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(400);

    const user = 'cluster-user';
    const url = `http://127.0.0.1:${port}`;
    // The primary hands connections to the workers in turn: four clients land on both of them.
    for (let i = 0; i < 4; i++) sockets.push(await connectClient(url, { token: token(user) }));

    const created = await fetch(`${url}/api/v1/payment/create-order`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token(user)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false }),
    });
    expect(created.status).toBe(201);
    const order = (await created.json()) as { order_no: string; qr_code_url: string };
    const paid = await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url });
    expect(paid.status).toBe(200);

    const events = await Promise.all(sockets.map((s) => s.waitFor(eventFor('order.paid', order.order_no), 15_000)));
    for (const e of events) expect(e.message.membership).toMatchObject({ level: 1 });
    const { rows } = await client.query(
      `SELECT o.status, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants FROM orders o WHERE o.order_no = $1`,
      [order.order_no],
    );
    expect(rows).toEqual([{ status: 'paid', grants: 1 }]);

    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
});
