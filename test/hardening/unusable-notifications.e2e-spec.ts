import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenService } from '../../src/auth/token.service';
import { buildAppConfig } from '../../src/config/app-config';
import { freePort } from '../../src/common/net';
import { TEST_JWT_SECRET } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { createTestDatabase, TestDatabase } from '../support/db';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';

const token = (user: string) => new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() })).sign(user);
const ROTATED_KEY = 'rotated-api-v3-key-0123456789abc'; // 32 bytes, not the sandbox's

interface LogLine {
  level: number;
  msg?: string;
}

/**
 * Correctly signed notifications that cannot be used are an operator's problem, not forgeries:
 * error-level lines and `unusable` in the metrics; one that does not decrypt is answered 5xx so
 * that WeChat Pay sends it again, and it settles once the key is right.
 */
describe('signed but unusable notifications', () => {
  // Each case starts one or two service processes (ts-node): on a loaded two-core machine that alone
  // can take a minute, so the cases wait longer than the suite's default.
  jest.setTimeout(240_000);
  let sb: Sandbox;
  let db: TestDatabase;
  const services: ServiceProcess[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    sb = await startTestSandbox();
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const s of services) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db?.drop();
    await sb?.close();
  });
  withInvariants(() => db?.url);

  async function start(extra: Record<string, string> = {}) {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-unusable-'));
    dirs.push(dataDir);
    const service = await spawnService({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATABASE_URL: db.url,
      JWT_SECRET: TEST_JWT_SECRET,
      DATA_DIR: dataDir,
      ...providerEnv(sb, port),
      PORT: String(port),
      ...extra,
    });
    services.push(service);
    return { service, base: `http://127.0.0.1:${port}` };
  }
  const order = (base: string, user: string, method = 'wechat') =>
    fetch(`${base}/api/v1/payment/create-order`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token(user)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: method }),
    }).then((r) => r.json() as Promise<{ order_no: string; qr_code_url: string }>);
  const prepared = async (qr: string, options: Record<string, unknown> = {}) =>
    (await sandboxCall(sb, 'POST', '/sandbox/pay', { qr, delivery: 'none', ...options })).body.notification as {
      headers: Record<string, string>;
      body: string;
    };
  const post = (base: string, provider: string, n: { headers: Record<string, string>; body: string }) =>
    fetch(`${base}/api/v1/payment/${provider}/callback`, { method: 'POST', headers: n.headers, body: n.body });
  const lines = (s: ServiceProcess) =>
    s
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  /** Lines reach us through a pipe, shortly after the answer: wait for the one expected. */
  const lineWith = async (s: ServiceProcess, text: string) => {
    for (;;) {
      const found = lines(s).find((l) => l.msg?.includes(text));
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const counter = async (base: string, outcome: string, provider = 'wechat') => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const m = new RegExp(`^memberpay_notifications_total\\{provider="${provider}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };

  it('a notification that does not decrypt (API v3 key rotated) is a 5xx, logged at error level as unusable, and settles once the key is right', async () => {
    const rotated = await start({ WECHAT_PAY_API_V3_KEY: ROTATED_KEY });
    const o = await order(rotated.base, 'unusable-key');
    const n = await prepared(o.qr_code_url);
    const res = await post(rotated.base, 'wechat', n);
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ code: 'FAIL' });
    const line = await lineWith(rotated.service, 'outcome=unusable');
    expect(line.level).toBe(50); // error
    expect(line.msg).toMatch(/decrypt/);
    expect(await counter(rotated.base, 'unusable')).toBe(1);

    // The operator fixes the key; WeChat Pay's resend of the very same notification is accepted.
    const fixed = await start();
    expect((await post(fixed.base, 'wechat', n)).status).toBe(204);
    const paid = await fetch(`${fixed.base}/api/v1/payment/orders/${o.order_no}`, {
      headers: { Authorization: `Bearer ${token('unusable-key')}` },
    });
    expect(((await paid.json()) as { status: string }).status).toBe('paid');
  });

  it('another merchant or app, an unknown attempt, another amount or currency: 4xx, unusable, error level; a forgery stays rejected', async () => {
    const { service, base } = await start();
    const cases: [string, Record<string, unknown>][] = [
      ['another merchant', { mchid: '1900000999' }],
      ['another app', { appid: 'wx0000000000000999' }],
      ['an unknown attempt', { out_trade_no: 'MP20990101000000UNKNOWN0001' }],
      ['another amount', { amount: { total: 1, payer_total: 1 } }],
      ['another currency', { amount: { currency: 'USD' } }],
    ];
    for (const [, override] of cases) {
      const o = await order(base, 'unusable-ids');
      const res = await post(base, 'wechat', await prepared(o.qr_code_url, { override }));
      expect(res.status).toBe(400);
    }
    expect(await counter(base, 'unusable')).toBe(cases.length);
    await lineWith(service, 'not CNY');
    const unusable = lines(service).filter((l) => l.msg?.includes('outcome=unusable'));
    expect(unusable).toHaveLength(cases.length);
    for (const l of unusable) expect(l.level).toBe(50);
    expect(unusable.map((l) => /reason="([^"]+)"/.exec(l.msg!)![1])).toEqual([
      'the notification is for another merchant',
      'the notification is for another app',
      'no payment attempt has this out_trade_no',
      'the amount differs from the payment attempt',
      'the payment is in USD, not CNY',
    ]);

    // Alipay: another seller, or another currency.
    for (const override of [{ seller_id: '2088000000000999' }, { trans_currency: 'USD' }]) {
      const o = await order(base, 'unusable-alipay', 'alipay');
      await sandboxCall(sb, 'POST', '/sandbox/scan', { qr: o.qr_code_url });
      const res = await post(base, 'alipay', await prepared(o.qr_code_url, { override }));
      expect(res.status).toBe(400);
    }
    expect(await counter(base, 'unusable', 'alipay')).toBe(2);

    // A forged signature is still a plain rejection, a warning.
    const forged = await order(base, 'forged');
    expect((await post(base, 'wechat', await prepared(forged.qr_code_url, { tamper: 'signature' }))).status).toBe(400);
    expect(await counter(base, 'rejected')).toBe(1);
    expect((await lineWith(service, 'outcome=rejected')).level).toBe(40);
  });

  it('counts and logs each refusal under its reason code', async () => {
    const { service, base } = await start();
    const forged = await order(base, 'reasons-forged');
    expect((await post(base, 'wechat', await prepared(forged.qr_code_url, { tamper: 'signature' }))).status).toBe(400);
    const otherApp = await order(base, 'reasons-app');
    expect((await post(base, 'wechat', await prepared(otherApp.qr_code_url, { override: { appid: 'wx0000000000000999' } }))).status).toBe(
      400,
    );
    const alipay = await order(base, 'reasons-alipay', 'alipay');
    await sandboxCall(sb, 'POST', '/sandbox/scan', { qr: alipay.qr_code_url });
    expect((await post(base, 'alipay', await prepared(alipay.qr_code_url, { override: { seller_id: '2088000000000999' } }))).status).toBe(
      400,
    );

    const text = await (await fetch(`${base}/metrics`)).text();
    for (const [provider, reason] of [
      ['wechat', 'BAD_SIGNATURE'],
      ['wechat', 'WRONG_APP_ID'],
      ['alipay', 'WRONG_SELLER_ID'],
    ]) {
      expect(text).toMatch(new RegExp(`^memberpay_notification_rejections_total\\{provider="${provider}",reason="${reason}"\\} 1$`, 'm'));
    }
    expect((await lineWith(service, 'rejection=WRONG_APP_ID')).msg).toMatch(
      /provider=wechat outcome=unusable rejection=WRONG_APP_ID .*reason="the notification is for another app"/,
    );
    expect((await lineWith(service, 'rejection=BAD_SIGNATURE')).msg).toMatch(/outcome=rejected/);
  });
  it('refund results: signed but unusable ones (another merchant, an unknown refund, another payment, a rotated key) are unusable at error level, not forgeries', async () => {
    const rotated = await start({ WECHAT_PAY_API_V3_KEY: ROTATED_KEY });
    const { service, base } = await start();
    const adminToken = new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() })).sign('admin-1', undefined, {
      admin: true,
    });
    // A refund WeChat Pay holds PROCESSING until the test settles it, with the notification handed back.
    const o = await order(base, 'unusable-refund');
    expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: o.qr_code_url })).body.delivered).toBe(true);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    const refund = (await (
      await fetch(`${base}/api/v1/admin/orders/${o.order_no}/refunds`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ amount: 100, reason: 'unusable results' }),
      })
    ).json()) as { refund_no: string; status: string };
    expect(refund.status).toBe('processing');
    const settled = async (override?: Record<string, unknown>, tamper?: string) =>
      (
        await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', {
          out_refund_no: refund.refund_no,
          status: 'ABNORMAL',
          delivery: 'none',
          override,
          tamper,
        })
      ).body.notification as { headers: Record<string, string>; body: string };
    const postRefund = (url: string, n: { headers: Record<string, string>; body: string }) =>
      fetch(`${url}/api/v1/payment/wechat/refund-callback`, { method: 'POST', headers: n.headers, body: n.body });
    const counterOf = async (url: string, outcome: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      // Refund results come through WeChat Pay's one callback handler: counted under its name.
      const m = new RegExp(`^memberpay_notifications_total\\{provider="wechat",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    };

    const cases: Record<string, unknown>[] = [
      { mchid: '1900000999' },
      { out_refund_no: 'RF20990101000000UNKNOWN00001' },
      { out_trade_no: 'MP20990101000000UNKNOWN00001' },
    ];
    const counted = await counterOf(base, 'unusable');
    const logged = lines(service).length;
    for (const override of cases) expect((await postRefund(base, await settled(override))).status).toBe(400);
    expect((await counterOf(base, 'unusable')) - counted).toBe(cases.length);
    await lineWith(service, 'rejection=PAYMENT_MISMATCH');
    const unusable = lines(service)
      .slice(logged)
      .filter((l) => l.msg?.startsWith('notification provider=wechat') && l.msg.includes('outcome=unusable'));
    expect(unusable.map((l) => [l.level, /rejection=(\S+)/.exec(l.msg!)![1]])).toEqual([
      [50, 'WRONG_MCHID'],
      [50, 'UNKNOWN_REFUND'],
      [50, 'PAYMENT_MISMATCH'],
    ]);

    // One that does not decrypt with our key: 5xx, so that WeChat Pay sends it again once the key is right.
    const sealed = await settled();
    const res = await postRefund(rotated.base, sealed);
    expect(res.status).toBe(500);
    expect((await lineWith(rotated.service, 'notification provider=wechat outcome=unusable')).level).toBe(50);
    expect((await postRefund(base, sealed)).status).toBe(204);

    // A forged one stays a plain rejection, a warning.
    expect((await postRefund(base, await settled(undefined, 'signature'))).status).toBe(400);
    expect(await counterOf(base, 'rejected')).toBe(1);
    expect((await lineWith(service, 'notification provider=wechat outcome=rejected')).level).toBe(40);
  });
});
