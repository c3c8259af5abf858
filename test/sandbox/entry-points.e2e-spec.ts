// The compiled entry points: `npm run sandbox` (main.js) and `npm start` (launch.js), run as child
// processes from a temporary build, with a stand-in for the app's dist/src/main.js.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(__dirname, '../..');
let work: string;

// Stand-in app: calls the sandbox if it was pointed at one, prints what it saw, then simply ends.
// The process exits only if nothing of the sandbox keeps it alive.
const FAKE_APP = `
const http = require('node:http');
const keys = ['WECHAT_PAY_MCH_ID', 'WECHAT_PAY_BASE_URL', 'WECHAT_PAY_PRIVATE_KEY_PATH', 'WECHAT_PAY_NOTIFY_URL',
  'ALIPAY_APP_ID', 'ALIPAY_GATEWAY', 'ALIPAY_PRIVATE_KEY', 'PAYMENT_SANDBOX'];
const env = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
const done = (health) => console.log('APP ' + JSON.stringify({ health, env }));
if (!process.env.WECHAT_PAY_BASE_URL) done(null);
else http.get(process.env.WECHAT_PAY_BASE_URL + '/sandbox/health', { agent: false }, (res) => {
  res.resume();
  res.on('end', () => done(res.statusCode));
});
`;

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(script: string, env: Record<string, string>, opts: { stopWhen?: RegExp; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(work, 'dist-sandbox/sandbox', script)], {
      cwd: opts.cwd ?? work,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: join(repo, 'node_modules'), ...env },
    });
    let out = '';
    let err = '';
    let stopped = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (!stopped && opts.stopWhen?.test(out)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolvePromise({ code, out, err });
    });
  });
}

const appOutput = (out: string) => JSON.parse(/^APP (.*)$/m.exec(out)?.[1] ?? 'null');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'memberpay-sandbox-entry-'));
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(repo, 'sandbox/tsconfig.json'), '--outDir', join(work, 'dist-sandbox')],
    { cwd: repo, stdio: 'pipe' },
  );
  mkdirSync(join(work, 'dist/src'), { recursive: true });
  writeFileSync(join(work, 'dist/src/main.js'), FAKE_APP);
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('launch.js (npm start)', () => {
  it('refuses to pair a configured provider with the sandbox for the other unless PAYMENT_SANDBOX_PROVIDERS says so', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    writeFileSync(join(cwd, '.env'), 'ALIPAY_APP_ID=2021009999999999\n');
    const res = await run('launch.js', { SANDBOX_PORT: '0', DATA_DIR: join(cwd, 'data') }, { cwd });
    expect(res.code).toBe(1);
    expect(res.err).toContain('Alipay is configured and WeChat Pay is not: set PAYMENT_SANDBOX_PROVIDERS=wechat');
    expect(res.out).not.toContain('PAYMENT SANDBOX');
    expect(appOutput(res.out)).toBeNull(); // the app never started
    const both = await run(
      'launch.js',
      { SANDBOX_PORT: '0', DATA_DIR: join(cwd, 'data'), PAYMENT_SANDBOX_PROVIDERS: 'wechat,alipay' },
      { cwd },
    );
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/asks to emulate Alipay, which is configured for real/);
    const none = await run('launch.js', { SANDBOX_PORT: '0', DATA_DIR: join(cwd, 'data'), PAYMENT_SANDBOX_PROVIDERS: 'none' }, { cwd });
    expect(none.code).toBe(0);
    expect(none.out).not.toContain('PAYMENT SANDBOX');
  });

  it('emulates what PAYMENT_SANDBOX_PROVIDERS names beside a configured provider, points the app at the sandbox, and lets the process end', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    writeFileSync(join(cwd, '.env'), 'ALIPAY_APP_ID=2021009999999999\nPORT=9999\nPAYMENT_SANDBOX_PROVIDERS=wechat\n');
    const res = await run('launch.js', { SANDBOX_PORT: '0', DATA_DIR: join(cwd, 'data'), PORT: '8123' }, { cwd });
    expect(res.code).toBe(0);
    expect(res.out).toContain('PAYMENT SANDBOX');
    expect(res.out).toContain('NOT REAL MONEY');
    expect(res.out).toMatch(/curl -X POST http:\/\/127\.0\.0\.1:\d+\/sandbox\/pay/);
    const app = appOutput(res.out);
    expect(app.health).toBe(200);
    expect(app.env).toMatchObject({
      WECHAT_PAY_MCH_ID: '1900000109',
      WECHAT_PAY_PRIVATE_KEY_PATH: join(cwd, 'data/sandbox/wechatpay-apiclient_key.pem'),
      WECHAT_PAY_NOTIFY_URL: 'http://127.0.0.1:8123/api/v1/payment/wechat/callback', // real env beats .env
      ALIPAY_APP_ID: '2021009999999999', // configured in .env: left alone
      PAYMENT_SANDBOX: '1',
    });
    expect(app.env.ALIPAY_GATEWAY).toBeUndefined();
  });

  it('never starts the sandbox with NODE_ENV=production', async () => {
    const res = await run('launch.js', { NODE_ENV: 'production', SANDBOX_PORT: '0', DATA_DIR: join(work, 'prod-data') });
    expect(res.code).toBe(0);
    expect(res.out).not.toContain('PAYMENT SANDBOX');
    expect(appOutput(res.out).env).toEqual({});
  });
});

describe('main.js (npm run sandbox)', () => {
  it('refuses NODE_ENV=production', async () => {
    const res = await run('main.js', { NODE_ENV: 'production' });
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/refuses to run with NODE_ENV=production/);
  });

  it('prints its URL and the environment for memberpay, and stops on SIGTERM', async () => {
    const dataDir = join(work, 'main-data');
    const res = await run('main.js', { SANDBOX_PORT: '0', DATA_DIR: dataDir }, { stopWhen: /PAYMENT_SANDBOX=1/ });
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/Sandbox: http:\/\/127\.0\.0\.1:\d+/);
    expect(res.out).toContain(`WECHAT_PAY_PLATFORM_CERT_PATH=${join(dataDir, 'sandbox/wechatpay-platform_cert.pem')}`);
    expect(res.out).toContain(`ALIPAY_PUBLIC_KEY=${join(dataDir, 'sandbox/alipay-alipay_public_key.pem')}`);
    expect(res.out).not.toContain('PRIVATE KEY-----');
  });
});
