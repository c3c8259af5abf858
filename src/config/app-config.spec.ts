import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAppConfig, ConfigError } from './app-config';

const dir = mkdtempSync(join(tmpdir(), 'memberpay-config-'));
const base = { DATA_DIR: dir, JWT_SECRET: 'j'.repeat(40) };

function problems(env: Record<string, string>): string[] {
  try {
    buildAppConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.variable} ${p.problem}`);
    throw e;
  }
  return [];
}

describe('configuration', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('has development defaults', () => {
    const c = buildAppConfig({ DATA_DIR: dir });
    expect(c).toMatchObject({ port: 8001, orderExpireMinutes: 30, qrCodeExpireMinutes: 15, paymentQueryRetryMax: 5 });
    expect(c.databaseUrl).toBeUndefined();
    expect(c.wechat).toBeUndefined();
    expect(c.alipay).toBeUndefined();
    expect(c.jwtSecret.length).toBeGreaterThan(40);
    expect(buildAppConfig({ DATA_DIR: dir }).jwtSecret).toBe(c.jwtSecret); // kept under DATA_DIR
  });

  it('reads the allowed return-URL origins, refusing anything but an origin', () => {
    expect(
      buildAppConfig({ ...base, PAYMENT_RETURN_URL_ORIGINS: ' https://M.example.com , http://127.0.0.1:8001/ ' }).returnUrlOrigins,
    ).toEqual(['https://m.example.com', 'http://127.0.0.1:8001']);
    expect(buildAppConfig({ ...base }).returnUrlOrigins).toEqual([]);
    for (const bad of ['https://m.example.com/pay', 'm.example.com', 'ftp://m.example.com', 'https://user:pw@m.example.com']) {
      expect(problems({ ...base, PAYMENT_RETURN_URL_ORIGINS: bad })).toEqual([
        'PAYMENT_RETURN_URL_ORIGINS must be origins like https://m.example.com, comma-separated',
      ]);
    }
  });

  it('names each bad variable once, without its value', () => {
    const secret = 'short-secret-value';
    const out = problems({ ...base, PORT: 'eighty', ORDER_EXPIRE_MINUTES: '-1', JWT_SECRET: secret, DATABASE_URL: 'mysql://x' });
    expect(out).toHaveLength(4);
    expect(out.join('\n')).toMatch(/^PORT /m);
    expect(out.join('\n')).toMatch(/^ORDER_EXPIRE_MINUTES /m);
    expect(out.join('\n')).toMatch(/^JWT_SECRET must be at least 32 characters/m);
    expect(out.join('\n')).toMatch(/^DATABASE_URL must be a postgres:\/\/ URL/m);
    expect(out.join('\n')).not.toContain(secret);
    expect(out.join('\n')).not.toContain('mysql');
  });

  it('refuses development defaults in production', () => {
    const out = problems({ DATA_DIR: dir, NODE_ENV: 'production', PAYMENT_SANDBOX: '1' });
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^JWT_SECRET is required in production/),
        expect.stringMatching(/^PAYMENT_SANDBOX/),
        expect.stringMatching(/^DATABASE_URL is required in production/),
      ]),
    );
    expect(
      problems({ ...base, NODE_ENV: 'production', ALLOW_EMBEDDED_DB_IN_PRODUCTION: '1', JWT_ISSUER: 'users', JWT_AUDIENCE: 'memberpay' }),
    ).toEqual([]);
  });

  it('stops on half a WeChat Pay configuration', () => {
    const out = problems({ ...base, WECHAT_PAY_MCH_ID: '1900000109' });
    expect(out).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^WECHAT_PAY_APP_ID is required/),
        expect.stringMatching(/^WECHAT_PAY_API_V3_KEY is required/),
      ]),
    );
  });

  it('stops on half an Alipay configuration', () => {
    expect(problems({ ...base, ALIPAY_APP_ID: '2021000000000001' })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^ALIPAY_PRIVATE_KEY is required/)]),
    );
  });

  it('accepts Alipay keys as PEM, bare base64 (PKCS#1 or PKCS#8) or a file path', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64');
    const pkcs8Pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const file = join(dir, 'alipay-private.pem');
    writeFileSync(file, pkcs8Pem);
    for (const key of [pkcs1, pkcs8Pem, file]) {
      const c = buildAppConfig({
        ...base,
        ALIPAY_APP_ID: '2021000000000001',
        ALIPAY_PRIVATE_KEY: key,
        ALIPAY_PUBLIC_KEY: spki,
        ALIPAY_NOTIFY_URL: 'https://example.com/n',
      });
      expect(c.alipay!.privateKeyPem).toBe(pkcs8Pem);
    }
    expect(
      problems({
        ...base,
        ALIPAY_APP_ID: '2021000000000001',
        ALIPAY_PRIVATE_KEY: 'A'.repeat(120),
        ALIPAY_PUBLIC_KEY: spki,
        ALIPAY_NOTIFY_URL: 'https://example.com/n',
      }),
    ).toEqual(['ALIPAY_PRIVATE_KEY is not a private key']);
  });

  it('never prints secrets when serialised', () => {
    const c = buildAppConfig(base);
    expect(JSON.stringify(c)).not.toContain(base.JWT_SECRET);
  });
});
