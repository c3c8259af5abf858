import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/common/net';
import { TEST_JWT_SECRET } from '../support/app';
import { useApp, withInvariants } from '../support/lifecycle';
import { createTestDatabase, TestDatabase } from '../support/db';
import { ServiceProcess, spawnService } from '../support/service-process';

/** A non-loopback IPv4 address of this machine, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, host, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });

describe('what the service exposes, and where', () => {
  let db: TestDatabase;
  const services: ServiceProcess[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of services)
      if (s.child.exitCode === null) {
        s.child.kill('SIGTERM');
        await s.exited;
      }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db?.drop();
  });
  withInvariants(() => db?.url);
  async function start(env: Record<string, string>) {
    const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-exposure-'));
    dirs.push(dataDir);
    const port = await freePort();
    const service = await spawnService({
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      PORT: String(port),
      ...env,
    });
    services.push(service);
    return { service, port };
  }

  it('in development it listens on 127.0.0.1 unless HOST says otherwise', async () => {
    const dev = await start({ NODE_ENV: 'development' });
    expect(dev.service.output()).toMatch(new RegExp(`listening on port ${dev.port} at 127\\.0\\.0\\.1 `));
    expect(await reachable('127.0.0.1', dev.port)).toBe(true);
    if (externalAddress) expect(await reachable(externalAddress, dev.port)).toBe(false);

    const open = await start({ NODE_ENV: 'development', HOST: '0.0.0.0' });
    expect(open.service.output()).toMatch(new RegExp(`listening on port ${open.port} at 0\\.0\\.0\\.0 `));
    if (externalAddress) expect(await reachable(externalAddress, open.port)).toBe(true);
  });

  it('in production without OPS_PORT it warns at boot that /metrics and /api/docs are on the public port', async () => {
    const prod = await start({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      JWT_ISSUER: 'https://users.example.com',
      JWT_AUDIENCE: 'memberpay',
    });
    const warning = /OPS_PORT is not set: \/metrics and \/api\/docs are served on the public API port/;
    // Logged right after the listening line: wait for the output to hold it.
    for (let i = 0; i < 600 && !warning.test(prod.service.output()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(prod.service.output()).toMatch(warning);
  });

  it('with OPS_PORT, /metrics and /api/docs are served there only; the API port keeps the API', async () => {
    const opsPort = await freePort();
    const { port, service } = await start({ NODE_ENV: 'test', OPS_PORT: String(opsPort) });
    expect(service.output()).toMatch(new RegExp(`/metrics and /api/docs on port ${opsPort} only`));
    expect(service.output()).not.toMatch(/OPS_PORT is not set/);
    const api = `http://127.0.0.1:${port}`;
    const ops = `http://127.0.0.1:${opsPort}`;
    for (const path of ['/metrics', '/api/docs', '/api/docs-json']) {
      const res = await fetch(`${api}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'NOT_FOUND' });
    }
    expect((await fetch(`${api}/health`)).status).toBe(200);
    expect((await fetch(`${api}/api/v1/membership/plans`)).status).toBe(200);
    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^# HELP memberpay_orders_created_total /m);
    expect((await fetch(`${ops}/api/docs-json`)).status).toBe(200);
    expect((await fetch(`${ops}/api/docs/`)).status).toBe(200);
    // Nothing else is served on the operators' port.
    expect((await fetch(`${ops}/api/v1/membership/plans`)).status).toBe(404);
    expect((await fetch(`${ops}/health`)).status).toBe(404);
  });

  it('log lines show connection URLs as scheme, host, port and database only', async () => {
    const u = new URL(db.url);
    // A server that checks passwords (the embedded one) must get its real password, in both places the
    // drivers read it from; a trust-auth server takes made-up ones. Either way the logs must show neither.
    const real = decodeURIComponent(u.password);
    const [userinfoSecret, querySecret] = real ? [real, real] : ['db-userinfo-secret', 'db-query-secret'];
    u.username = 'postgres';
    u.password = encodeURIComponent(userinfoSecret);
    u.search = `?password=${encodeURIComponent(querySecret)}&application_name=memberpay`;
    const redis = 'redis://:redis-userinfo-secret@127.0.0.1:6379/0?keyPrefix=exposure-test:&password=redis-query-secret';
    const { service } = await start({ NODE_ENV: 'test', DATABASE_URL: u.toString(), REDIS_URL: redis });
    await fetch(`http://127.0.0.1:${/listening on port (\d+)/.exec(service.output())![1]}/health/ready`);
    service.child.kill('SIGTERM');
    await service.exited;
    const logs = service.output();
    for (const secret of [userinfoSecret, querySecret, 'redis-userinfo-secret', 'redis-query-secret', 'keyPrefix'])
      expect(logs).not.toContain(secret);
    expect(logs).toContain(`external PostgreSQL postgres://${u.hostname}:${u.port}${u.pathname}, Redis redis://127.0.0.1:6379/0)`);
  });
});

describe('JSON nesting', () => {
  const { t } = useApp();

  it.each([9, 100, 20_000])('a body nested %d levels deep is a 400 MALFORMED_REQUEST, and changes nothing', async (depth) => {
    const body = `{"product_type":"membership","product_id":1,"payment_method":"wechat","x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    const res = await t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token('deep')}`)
      .set('Content-Type', 'application/json')
      .send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_REQUEST', message: 'The request body is nested too deeply' });
    expect((await t.db.query(`SELECT count(*)::int AS n FROM orders WHERE user_id = 'deep'`)).rows[0].n).toBe(0);
  });

  it('brackets inside strings do not count, and 8 levels are fine', async () => {
    const res = await t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token('deep')}`)
      .set('Content-Type', 'application/json')
      .send(`{"product_type":"membership [[[[[[[[[[[[","a":[[[[[[[]]]]]]]}`);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED'); // read, then refused on its merits
  });
});
