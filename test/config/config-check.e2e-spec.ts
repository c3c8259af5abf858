import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfiguration } from '../../src/ops/config-check';
import { providerEnv, Sandbox, startTestSandbox } from '../support/sandbox';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'memberpay-check-'));
const JWT = 'jwt-secret-that-must-never-be-printed-0123456789';

function runCheck(env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register', 'src/ops/config-check.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1', ...env },
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('npm run config:check', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(async () => {
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the development defaults with a readable report and exit 0', () => {
    const { code, out } = runCheck({ DATA_DIR: dir });
    expect(code).toBe(0);
    expect(out).toMatch(/^WeChat Pay: off$/m);
    expect(out).toMatch(/embedded PostgreSQL/);
    expect(out).toMatch(/OK: this configuration can start/);
  });

  it('fails a broken configuration with exit 1, naming each problem, without secrets', () => {
    const { code, out } = runCheck({
      DATA_DIR: dir,
      JWT_SECRET: JWT,
      DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/nothing',
      WECHAT_PAY_API_V3_KEY: 'not-32-bytes-secret',
    });
    expect(code).toBe(1);
    expect(out).toMatch(/problem: WECHAT_PAY_API_V3_KEY must be exactly 32 bytes/);
    expect(out).toMatch(/problem: DATABASE_URL cannot be reached/);
    expect(out).toMatch(/^WeChat Pay: misconfigured$/m);
    for (const secret of [JWT, 'hunter2', 'not-32-bytes-secret']) expect(out).not.toContain(secret);
  });

  it('reports the sandbox providers and a reachable database', async () => {
    const env = { DATA_DIR: dir, JWT_SECRET: JWT, DATABASE_URL: process.env.MEMBERPAY_TEST_ADMIN_URL!, ...providerEnv(sb, 8001) };
    const { report, ok } = await checkConfiguration(env);
    expect(ok).toBe(true);
    expect(report).toMatch(/^WeChat Pay: sandbox/m);
    expect(report).toMatch(/^Alipay: sandbox/m);
    expect(report).toMatch(/connection\s+reachable \(PostgreSQL \d+/);
    expect(report).not.toContain(sb.credentials.wechat.apiV3Key);
    expect(report).toMatch(/WECHAT_PAY_API_V3_KEY\s+\(set, 32 bytes, masked\)/);
    expect(report).toMatch(/not https/);
  });

  it('lists every problem of a broken configuration in one run, each value checked on its own', async () => {
    const env: Record<string, string> = {
      DATA_DIR: dir,
      ...providerEnv(sb, 8001),
      JWT_SECRET: 'too-short',
      ORDER_EXPIRE_MINUTES: 'soon',
      WECHAT_PAY_API_V3_KEY: 'not-32-bytes',
      WECHAT_PAY_PRIVATE_KEY_PATH: '/nonexistent/key.pem',
      WECHAT_PAY_CERT_SERIAL_NO: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01',
      WECHAT_PAY_NOTIFY_URL: 'callback',
      ALIPAY_PUBLIC_KEY: 'not-a-key',
    };
    const { report, ok } = await checkConfiguration(env);
    expect(ok).toBe(false);
    const problems = report.split('\n').filter((l) => l.startsWith('problem: '));
    expect(problems.sort()).toEqual(
      [
        'problem: ALIPAY_PUBLIC_KEY is neither a PEM key, base64 key text nor a readable file',
        'problem: JWT_SECRET must be at least 32 characters',
        'problem: ORDER_EXPIRE_MINUTES must be an integer number',
        'problem: WECHAT_PAY_API_V3_KEY must be exactly 32 bytes',
        'problem: WECHAT_PAY_CERT_SERIAL_NO differs from the serial of WECHAT_PAY_CERT_PATH',
        'problem: WECHAT_PAY_NOTIFY_URL must be an http(s) URL',
        'problem: WECHAT_PAY_PRIVATE_KEY_PATH cannot read the file /nonexistent/key.pem',
      ].sort(),
    );
    expect(report).toMatch(/✗ WECHAT_PAY_PRIVATE_KEY_PATH /);
    expect(report).toMatch(/✓ WECHAT_PAY_CERT_PATH /);
    expect(report).toMatch(/^WeChat Pay: misconfigured$/m);
    expect(report).toMatch(/^Alipay: misconfigured$/m);
    // A provider whose own settings hold is shown as it is, whatever else is broken.
    const alipayOnly = await checkConfiguration({ ...providerEnv(sb, 8001), DATA_DIR: dir, JWT_SECRET: 'too-short' });
    expect(alipayOnly.report).toMatch(/^Alipay: sandbox/m);
    expect(alipayOnly.report).toMatch(/✓ Alipay wap\s+on/);
  });

  it('never prints the password of a DATABASE_URL without its scheme, and reports an unparseable one as a problem', () => {
    const noScheme = runCheck({ DATA_DIR: dir, DATABASE_URL: 'memberpay:hunter2@127.0.0.1/memberpay' });
    expect(noScheme.code).toBe(1);
    expect(noScheme.out).toMatch(/problem: DATABASE_URL must be a postgres:\/\/ URL/);
    expect(noScheme.out).toMatch(/DATABASE_URL\s+\(set, not a scheme:\/\/… URL, masked\)/);
    expect(noScheme.out).not.toContain('hunter2');
    const unparseable = runCheck({ DATA_DIR: dir, DATABASE_URL: 'postgres://memberpay:hunter2@[127.0.0.1/memberpay' });
    expect(unparseable.code).toBe(1);
    expect(unparseable.out).toMatch(/problem: DATABASE_URL cannot be parsed as a URL/);
    expect(unparseable.out).not.toContain('hunter2');
  });

  it('warns in production of settings that make no sense there: PAYMENT_SANDBOX_PROVIDERS, no OPS_PORT', async () => {
    const env = { DATA_DIR: dir, NODE_ENV: 'production', PAYMENT_SANDBOX_PROVIDERS: 'wechat', JWT_SECRET: JWT };
    const { report } = await checkConfiguration(env);
    expect(report).toMatch(/warning: PAYMENT_SANDBOX_PROVIDERS is set: production never starts the provider sandbox/);
    expect(report).toMatch(/warning: OPS_PORT is not set: \/metrics and \/api\/docs are served on the public API port/);
    const withOps = await checkConfiguration({ ...env, OPS_PORT: '9464', PAYMENT_SANDBOX_PROVIDERS: '' });
    expect(withOps.report).not.toMatch(/warning: (OPS_PORT|PAYMENT_SANDBOX_PROVIDERS)/);
    const development = await checkConfiguration({ DATA_DIR: dir, PAYMENT_SANDBOX_PROVIDERS: 'wechat' });
    expect(development.report).not.toMatch(/warning: (OPS_PORT|PAYMENT_SANDBOX_PROVIDERS)/);
  });

  it('prints its usage for --help (exit 0) and refuses unknown options (exit 2)', () => {
    const help = spawnSync(process.execPath, ['-r', 'ts-node/register', 'src/ops/config-check.ts', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1' },
    });
    expect([help.status, help.stdout]).toEqual([0, expect.stringMatching(/^usage: npm run config:check/)]);
    const unknown = spawnSync(process.execPath, ['-r', 'ts-node/register', 'src/ops/config-check.ts', '--fix'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1' },
    });
    expect([unknown.status, unknown.stderr]).toEqual([2, expect.stringMatching(/Unknown option '--fix'/)]);
  });

  it("lists each provider's channels: on, or off with what to set", async () => {
    const env = { DATA_DIR: dir, ...providerEnv(sb, 8001), ALIPAY_CHANNELS: 'wap', PAYMENT_RETURN_URL_ORIGINS: 'https://m.example.com' };
    const { report, ok } = await checkConfiguration(env);
    expect(ok).toBe(true);
    expect(report).toMatch(/✓ WeChat Pay app\s+on/);
    expect(report).toMatch(/✓ WeChat Pay h5\s+on/);
    expect(report).toMatch(/✓ Alipay wap\s+on/);
    expect(report).toMatch(/· Alipay page\s+off \(set ALIPAY_CHANNELS=page/);
    expect(report).toMatch(/WECHAT_PAY_H5_REDIRECT_URL is not https/);
    const off = await checkConfiguration({ ...env, WECHAT_PAY_APP_APP_ID: '' });
    expect(off.report).toMatch(/· WeChat Pay app\s+off \(set WECHAT_PAY_APP_APP_ID/);
  });

  it.each([
    [
      'a key file that cannot be read',
      { WECHAT_PAY_PRIVATE_KEY_PATH: '/nonexistent/key.pem' },
      /WECHAT_PAY_PRIVATE_KEY_PATH cannot read the file/,
    ],
    ['a key file that is not a private key', 'not-a-key', /WECHAT_PAY_PRIVATE_KEY_PATH is not a private key/],
    [
      'a certificate serial that differs',
      { WECHAT_PAY_CERT_SERIAL_NO: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' },
      /WECHAT_PAY_CERT_SERIAL_NO differs from the serial/,
    ],
    ['a private key that does not match the certificate', 'other-key', /does not match the certificate/],
    [
      'a public key id without PUB_KEY_ID_',
      { WECHAT_PAY_PUBLIC_KEY_ID: 'KEY_123' },
      /WECHAT_PAY_PUBLIC_KEY_ID must start with PUB_KEY_ID_/,
    ],
    [
      'a notify URL with a query string',
      { WECHAT_PAY_NOTIFY_URL: 'https://example.com/cb?x=1' },
      /WECHAT_PAY_NOTIFY_URL must not carry a query string/,
    ],
    ['a gateway that is not a URL', { ALIPAY_GATEWAY: 'gateway.do' }, /ALIPAY_GATEWAY must be an http\(s\) URL/],
    ['half an Alipay configuration', { ALIPAY_PRIVATE_KEY: '' }, /ALIPAY_PRIVATE_KEY is required/],
    ['an Alipay channel that does not exist', { ALIPAY_CHANNELS: 'app,h5' }, /ALIPAY_CHANNELS must list channels among app, wap, page/],
    [
      'a return-URL origin with a path',
      { PAYMENT_RETURN_URL_ORIGINS: 'https://m.example.com/pay' },
      /PAYMENT_RETURN_URL_ORIGINS must be origins like/,
    ],
    ['a JSAPI app id that is not one', { WECHAT_PAY_JSAPI_APP_IDS: 'wxd930ea5d5a258f4f,abc' }, /WECHAT_PAY_JSAPI_APP_IDS must be app ids/],
  ])('reports %s', async (_name, patch, expected) => {
    const env: Record<string, string> = { DATA_DIR: dir, ...providerEnv(sb, 8001) };
    if (patch === 'not-a-key') {
      env.WECHAT_PAY_PRIVATE_KEY_PATH = join(dir, 'garbage.pem');
      writeFileSync(env.WECHAT_PAY_PRIVATE_KEY_PATH, 'garbage');
    } else if (patch === 'other-key') {
      env.WECHAT_PAY_PRIVATE_KEY_PATH = join(dir, 'other.pem');
      writeFileSync(
        env.WECHAT_PAY_PRIVATE_KEY_PATH,
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
      );
    } else Object.assign(env, patch);
    const { report, ok } = await checkConfiguration(env);
    expect(ok).toBe(false);
    expect(report).toMatch(expected);
  });
});
