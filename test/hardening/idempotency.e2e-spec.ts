import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenService } from '../../src/auth/token.service';
import { buildAppConfig } from '../../src/config/app-config';
import { freePort } from '../../src/common/net';
import { TEST_JWT_SECRET } from '../support/app';
import { useApp, withInvariants } from '../support/lifecycle';
import { connect, createTestDatabase, TestDatabase } from '../support/db';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';

const token = (user: string) => new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() })).sign(user);
const body = JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false });

describe('Idempotency-Key answers', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });

  it('a replay is byte for byte the first answer', async () => {
    const send = () =>
      fetch(`${t.url}/api/v1/payment/create-order`, {
        method: 'POST',
        body,
        headers: { Authorization: `Bearer ${t.token('idem-bytes')}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'bytes-1' },
      });
    const first = await send();
    const firstText = await first.text();
    const replay = await send();
    expect(replay.status).toBe(first.status);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await replay.text()).toBe(firstText);
    expect(JSON.parse(firstText)).toMatchObject({ status: 'pending', qr_code_url: expect.stringMatching(/^weixin:/) });
  });

  it('with the QR code image asked for, the replay is byte for byte the first answer too', async () => {
    const send = () =>
      fetch(`${t.url}/api/v1/payment/create-order?include=qr_code_image`, {
        method: 'POST',
        body,
        headers: {
          Authorization: `Bearer ${t.token('idem-bytes-image')}`,
          'Content-Type': 'application/json',
          'Idempotency-Key': 'bytes-2',
        },
      });
    const firstText = await (await send()).text();
    expect(JSON.parse(firstText).qr_code_image).toMatch(/^data:image\/png;base64,/);
    const replay = await send();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.text()).toBe(firstText);
  });
});

describe('Idempotency-Key under concurrency', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });

  it('more keyed requests at once than the pool has connections all get their order', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        fetch(`${t.url}/api/v1/payment/create-order`, {
          method: 'POST',
          body,
          headers: {
            Authorization: `Bearer ${t.token(`idem-many-${i}`)}`,
            'Content-Type': 'application/json',
            'Idempotency-Key': `many-${i}`,
          },
        }).then((r) => r.status),
      ),
    );
    expect(answers).toEqual(Array(30).fill(201));
  });
});

describe('Idempotency-Key across a crash', () => {
  let sb: Sandbox;
  let db: TestDatabase;
  let service: ServiceProcess | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    sb = await startTestSandbox();
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (service) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db?.drop();
    await sb?.close();
  });
  withInvariants(() => db?.url);

  it('a service killed while the provider is being asked leaves neither an order nor a key blocking the retry; the retry makes one order', async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-idem-'));
    dirs.push(dataDir);
    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      PROVIDER_TIMEOUT_MS: '60000',
      ...providerEnv(sb, port),
      PORT: String(port),
    };
    service = await spawnService(env);
    const send = () =>
      fetch(`http://127.0.0.1:${port}/api/v1/payment/create-order`, {
        method: 'POST',
        body,
        headers: { Authorization: `Bearer ${token('idem-crash')}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'crash-1' },
      });
    // The provider never answers the first attempt; the service dies while waiting for it.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'native', mode: 'hang', times: 1 });
    const lost = send().catch(() => 'connection lost');
    while ((await sandboxCall(sb, 'GET', '/sandbox/faults')).body.faults.length) await new Promise((r) => setTimeout(r, 20));
    service.child.kill('SIGKILL');
    await service.exited;
    expect(await lost).toBe('connection lost');

    service = await spawnService(env);
    const retry = await send();
    expect(retry.status).toBe(201);
    const created = (await retry.json()) as { order_no: string };
    const again = await send();
    expect(again.status).toBe(201);
    expect(((await again.json()) as { order_no: string }).order_no).toBe(created.order_no);
    const pg = await connect(db.url);
    try {
      const { rows } = await pg.query(`SELECT order_no FROM orders WHERE user_id = 'idem-crash'`);
      expect(rows).toEqual([{ order_no: created.order_no }]);
    } finally {
      await pg.end();
    }
  });
});
