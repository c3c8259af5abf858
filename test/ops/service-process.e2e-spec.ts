import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenService } from '../../src/auth/token.service';
import { buildAppConfig } from '../../src/config/app-config';
import { freePort } from '../../src/common/net';
import { TEST_JWT_SECRET } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { connect, createTestDatabase, TestDatabase } from '../support/db';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { runServiceToExit, spawnService } from '../support/service-process';

/** The service in its own process, as ops run it: logs captured, signals sent. */
describe('the service process', () => {
  let sb: Sandbox;
  let db: TestDatabase;
  beforeAll(async () => {
    sb = await startTestSandbox();
    db = await createTestDatabase();
  });
  const dataDirs: string[] = [];
  afterAll(async () => {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await db?.drop();
    await sb?.close();
  });
  withInvariants(() => db?.url);

  const token = (user: string) => new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() })).sign(user);
  async function start(extra: Record<string, string> = {}) {
    const port = await freePort();
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'debug',
      PORT: String(port),
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'memberpay-proc-')),
      ...providerEnv(sb, port),
      ...extra,
    };
    dataDirs.push(env.DATA_DIR);
    return { service: await spawnService({ ...env, PORT: String(port) }), port, env };
  }
  const createOrder = (port: number, user: string, method = 'wechat') =>
    fetch(`http://127.0.0.1:${port}/api/v1/payment/create-order`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token(user)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: method }),
    }).then((r) => r.json() as Promise<{ order_no: string; qr_code_url: string }>);

  it('never writes a secret to its logs during a full payment', async () => {
    const { service, port, env } = await start();
    const user = 'log-user';
    const bearer = token(user);
    const wechat = await createOrder(port, user);
    await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: wechat.qr_code_url });
    const alipay = await createOrder(port, user, 'alipay');
    await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: alipay.qr_code_url });
    await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: wechat.qr_code_url, pay: false, tamper: 'signature' }); // a rejected one too
    await fetch(`http://127.0.0.1:${port}/api/v1/membership/me`, { headers: { Authorization: `Bearer ${bearer}` } });
    await fetch(`http://127.0.0.1:${port}/api/v1/membership/me`, { headers: { Authorization: 'Bearer forged.token.value' } });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);

    const logs = service.output();
    expect(logs).toMatch(/notification provider=wechat outcome=accepted/);
    expect(logs).toMatch(/notification provider=alipay outcome=accepted/);
    const pemBody = (file: string) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'));
    const secrets = [
      TEST_JWT_SECRET,
      bearer,
      bearer.split('.')[2],
      'forged.token.value',
      env.WECHAT_PAY_API_V3_KEY,
      ...pemBody(env.WECHAT_PAY_PRIVATE_KEY_PATH),
      ...pemBody(env.ALIPAY_PRIVATE_KEY),
    ];
    for (const secret of secrets) expect(logs).not.toContain(secret);

    // A line written while handling a request carries that request's id, so an operator can follow it: the notification
    // outcome lines are written by the controller, and pino binds req.id to them from the request.
    const lines = logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; req?: { id?: string } });
    const outcomes = lines.filter((l) => l.msg?.startsWith('notification provider='));
    expect(outcomes.length).toBeGreaterThanOrEqual(3); // two settled, the tampered one (resent by the sandbox)
    for (const line of outcomes) expect(line.req?.id).toBe(/request_id=(\S+)/.exec(line.msg!)![1]);
  });

  it('drains on SIGTERM in the middle of notifications: each order settled or untouched, exit 0', async () => {
    const { service, port } = await start();
    const orders = await Promise.all(Array.from({ length: 8 }, (_, i) => createOrder(port, `term-${i}`)));
    const prepared = await Promise.all(orders.map((o) => sandboxCall(sb, 'POST', '/sandbox/pay', { qr: o.qr_code_url, delivery: 'none' })));
    const answers = prepared.map(({ body }) =>
      fetch(`http://127.0.0.1:${port}/api/v1/payment/wechat/callback`, {
        method: 'POST',
        headers: body.notification.headers,
        body: body.notification.body,
      }).then(
        (r) => r.status,
        () => 'no answer',
      ),
    );
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    const statuses = await Promise.all(answers);

    const pg = await connect(db.url);
    try {
      for (const [i, o] of orders.entries()) {
        const {
          rows: [row],
        } = await pg.query(
          `SELECT o.status, pr.status AS record, (SELECT count(*) FROM membership_grants g WHERE g.order_id = o.id)::int AS grants,
             (SELECT count(*) FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.paid')::int AS events
           FROM orders o JOIN payment_records pr ON pr.payment_no = o.payment_no WHERE o.order_no = $1`,
          [o.order_no],
        );
        const settled = { status: 'paid', record: 'success', grants: 1, events: 1 };
        const untouched = { status: 'pending', record: 'pending', grants: 0, events: 0 };
        expect([settled, untouched]).toContainEqual(row);
        // A 2xx told WeChat Pay it was settled: then it must be.
        if (statuses[i] === 204) expect(row).toEqual(settled);
      }
    } finally {
      await pg.end();
    }
  });

  it('refuses the development defaults in production', async () => {
    const { code, output } = await runServiceToExit({ NODE_ENV: 'production', DATA_DIR: tmpdir(), ...providerEnv(sb, 8001) });
    expect(code).toBe(1);
    expect(output).toMatch(/^config: JWT_SECRET is required in production$/m);
    expect(output).toMatch(/^config: PAYMENT_SANDBOX the provider sandbox is refused in production$/m);
    expect(output).toMatch(/^config: DATABASE_URL is required in production/m);
    expect(output).toMatch(/^config: WECHAT_PAY_NOTIFY_URL must be https in production$/m);
    expect(output).toMatch(/^config: WECHAT_PAY_BASE_URL points at a local sandbox, refused in production$/m);
    expect(output).toMatch(/^config: ALIPAY_GATEWAY points at a local sandbox, refused in production$/m);
  });
});
