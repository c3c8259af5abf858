import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { providerEnv, Sandbox, startTestSandbox } from '../support/sandbox';

const ROOT = join(__dirname, '..', '..');
/** The provider SDKs: only the adapters under src/payments/providers/ may load them. */
const SDKS = ['wechatpay-axios-plugin', 'alipay-sdk'];

const dir = mkdtempSync(join(tmpdir(), 'memberpay-sdks-'));
// Preloaded into the child: on exit, every module file it loaded, one per line.
const PROBE = join(dir, 'loaded-modules.js');
writeFileSync(
  PROBE,
  `process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_MODULES_OUT, Object.keys(require.cache).join('\\n')));\n`,
);

/** Runs node (with ts-node, as the npm scripts do) and returns its exit code, output and loaded modules. */
function run(args: string[], env: Record<string, string>) {
  const out = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register', '-r', PROBE, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1', DATA_DIR: dir, LOADED_MODULES_OUT: out, ...env },
  });
  const modules = readFileSync(out, 'utf8')
    .split('\n')
    .map((m) => relative(ROOT, m));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, modules };
}

const sdksIn = (modules: string[]) => SDKS.filter((sdk) => modules.some((m) => m.startsWith(join('node_modules', sdk))));

/**
 * Configuration is the ground floor: reading it (the service's first step, `npm run token`) builds
 * both providers' sections from their settings without loading an adapter, so neither provider SDK
 * is loaded.
 */
describe('configuration loads no provider SDK', () => {
  let sb: Sandbox;
  let env: Record<string, string>;
  beforeAll(async () => {
    sb = await startTestSandbox();
    env = providerEnv(sb, 8001);
  });
  afterAll(async () => {
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('building the configuration with both providers configured', () => {
    const r = run(
      [
        '-e',
        `const c = require('./src/config/config.module').loadAppConfig();
         if (!c.wechat || !c.alipay) throw new Error('both providers should be configured');`,
      ],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.modules).toContain(join('src', 'config', 'app-config.ts'));
    expect(sdksIn(r.modules)).toEqual([]);
  });

  it('npm run token', () => {
    const r = run(['scripts/token.ts', '42'], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sdksIn(r.modules)).toEqual([]);
  });

  it('while the payment providers do load them (the probe sees an SDK when one is loaded)', () => {
    const r = run(['-e', `require('./src/payments/provider-catalog')`], env);
    expect(r.code).toBe(0);
    expect(sdksIn(r.modules)).toEqual(SDKS);
  });
});
