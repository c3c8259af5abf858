import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppConfig, ConfigError } from '../../src/config/app-config';
import { checkConfiguration } from '../../src/ops/config-check';
import { providerEnv, Sandbox, startTestSandbox } from '../support/sandbox';

const dir = mkdtempSync(join(tmpdir(), 'memberpay-prodcfg-'));

function problems(env: Record<string, string | undefined>): string[] {
  try {
    buildAppConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.variable} ${p.problem}`);
    throw e;
  }
  return [];
}

describe('production configuration and what config:check shows', () => {
  let sb: Sandbox;
  let live: Record<string, string | undefined>;
  beforeAll(async () => {
    sb = await startTestSandbox();
    // The sandbox's keys, with the URLs a live deployment would have.
    live = {
      ...providerEnv(sb, 8001),
      PAYMENT_SANDBOX: undefined,
      NODE_ENV: 'production',
      DATA_DIR: dir,
      JWT_SECRET: 'p'.repeat(40),
      JWT_ISSUER: 'https://users.example.com',
      JWT_AUDIENCE: 'memberpay',
      DATABASE_URL: 'postgres://memberpay@db.internal:5432/memberpay',
      WECHAT_PAY_BASE_URL: 'https://api.mch.weixin.qq.com',
      WECHAT_PAY_NOTIFY_URL: 'https://pay.example.com/api/v1/payment/wechat/callback',
      WECHAT_PAY_CONTRACT_NOTIFY_URL: 'https://pay.example.com/api/v1/payment/wechat/contract-callback',
      ALIPAY_GATEWAY: 'https://openapi.alipay.com/gateway.do',
      ALIPAY_NOTIFY_URL: 'https://pay.example.com/api/v1/payment/alipay/callback',
      ALIPAY_RETURN_URL: 'https://pay.example.com/payment/return',
    };
  });
  afterAll(async () => {
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a complete live configuration, listening on 0.0.0.0 unless HOST says otherwise', () => {
    expect(problems(live)).toEqual([]);
    expect(buildAppConfig(live).host).toBe('0.0.0.0');
    expect(buildAppConfig({ ...live, HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
    expect(buildAppConfig({ DATA_DIR: dir }).host).toBe('127.0.0.1');
  });

  it('refuses an OPS_PORT equal to PORT', () => {
    expect(problems({ ...live, PORT: '8001', OPS_PORT: '8001' })).toEqual([
      'OPS_PORT must differ from PORT (it keeps /metrics and /api/docs off the API port)',
    ]);
    expect(buildAppConfig({ ...live, OPS_PORT: '9464' }).opsPort).toBe(9464);
  });

  it('refuses http:// provider base URLs in production', () => {
    expect(problems({ ...live, WECHAT_PAY_BASE_URL: 'http://api.mch.weixin.qq.com' })).toEqual([
      'WECHAT_PAY_BASE_URL must be https in production',
    ]);
    expect(problems({ ...live, ALIPAY_GATEWAY: 'http://openapi.alipay.com/gateway.do' })).toEqual([
      'ALIPAY_GATEWAY must be https in production',
    ]);
    expect(problems({ ...live, NODE_ENV: 'development', ALIPAY_GATEWAY: 'http://openapi.alipay.com/gateway.do' })).toEqual([]);
  });

  it('requires ALIPAY_SELLER_ID when Alipay is on, and JWT_ISSUER and JWT_AUDIENCE, in production', () => {
    expect(problems({ ...live, ALIPAY_SELLER_ID: undefined })).toEqual([
      'ALIPAY_SELLER_ID is required in production when Alipay is configured',
    ]);
    expect(problems({ ...live, JWT_ISSUER: undefined, JWT_AUDIENCE: undefined })).toEqual([
      'JWT_ISSUER is required in production',
      'JWT_AUDIENCE is required in production',
    ]);
  });

  it('config:check shows connection URLs as scheme, host, port and database only, and lists the new variables', async () => {
    const { report } = await checkConfiguration({
      ...live,
      NODE_ENV: 'development',
      DATABASE_URL: 'postgres://admin:db-secret@127.0.0.1:1/memberpay?password=query-secret&sslmode=require',
      REDIS_URL: 'rediss://default:redis-secret@cache.internal:6380/2?password=redis-query-secret',
      OPS_PORT: '9464',
      TRUST_PROXY: 'loopback',
    });
    for (const secret of ['db-secret', 'query-secret', 'redis-secret', 'redis-query-secret', 'admin', 'sslmode'])
      expect(report).not.toContain(secret);
    expect(report).toMatch(/DATABASE_URL\s+postgres:\/\/127\.0\.0\.1:1\/memberpay$/m);
    expect(report).toMatch(/REDIS_URL\s+rediss:\/\/cache\.internal:6380\/2$/m);
    expect(report).toMatch(/OPS_PORT\s+9464$/m);
    expect(report).toMatch(/JWT_MAX_TTL_SECONDS\s+not set \(default 86400\)$/m);
    expect(report).toMatch(/PUBLIC_RATE_LIMIT\s+not set \(default 300\)$/m);
  });
});
