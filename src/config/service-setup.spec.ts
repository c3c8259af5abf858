import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDatabaseUrl, checkJwtSecret, findService, secretFingerprint, ServiceSetup, ServiceSetupError } from './service-setup';

describe('finding the setup of the service a tool is run for', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'memberpay-setup-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  const setup = (over: Partial<ServiceSetup>): ServiceSetup => ({
    pid: process.pid, // this test's own process: alive, and a node process
    dataDir: join(cwd, 'data-a'),
    host: '127.0.0.1',
    port: 8101,
    sandboxPort: 8102,
    sandboxUrl: 'http://127.0.0.1:8102',
    database: { kind: 'embedded' },
    jwt: { secret: 'development', fingerprint: secretFingerprint('a'.repeat(40)) },
    startedAt: new Date().toISOString(),
    ...over,
  });
  const register = (s: ServiceSetup, name = `${s.pid}.json`) => {
    mkdirSync(join(cwd, '.memberpay', 'running'), { recursive: true });
    writeFileSync(join(cwd, '.memberpay', 'running', name), JSON.stringify(s));
    mkdirSync(s.dataDir, { recursive: true });
    writeFileSync(join(s.dataDir, 'service.json'), JSON.stringify(s));
  };
  afterEach(() => rmSync(join(cwd, '.memberpay'), { recursive: true, force: true }));

  it("gives a tool told nothing the running service's DATA_DIR and ports, what it was told winning", () => {
    register(setup({}));
    const found = findService({}, cwd);
    expect(found).toMatchObject({ running: true, env: { DATA_DIR: join(cwd, 'data-a'), PORT: '8101', SANDBOX_PORT: '8102' } });
    expect(findService({ SANDBOX_PORT: '9002' }, cwd).env.SANDBOX_PORT).toBe('9002');
  });

  it('refuses to guess between several running services, naming them and DATA_DIR; PORT or DATA_DIR chooses', () => {
    register(setup({}));
    // The entry of a service that is gone does not count.
    register(setup({ pid: 4194303, dataDir: join(cwd, 'data-gone'), port: 8301 }));
    expect(findService({}, cwd).setup?.port).toBe(8101);
    register(setup({ dataDir: join(cwd, 'data-b'), port: 8201 }), '99999999.json');
    expect(() => findService({}, cwd)).toThrow(/2 memberpay services run from this checkout: .*Set DATA_DIR/);
    expect(findService({ PORT: '8201' }, cwd).env.DATA_DIR).toBe(join(cwd, 'data-b'));
    expect(findService({ DATA_DIR: join(cwd, 'data-a') }, cwd).env.PORT).toBe('8101');
    // Given the DATA_DIR of a stopped service, its last setup is used, known not to run.
    expect(findService({ DATA_DIR: join(cwd, 'data-gone') }, cwd)).toMatchObject({ running: false, env: { PORT: '8301' } });
  });

  it('refuses a JWT secret that is not the one the service verifies with, naming JWT_SECRET', () => {
    register(setup({ jwt: { secret: 'environment', fingerprint: secretFingerprint('s'.repeat(40)) } }));
    const found = findService({}, cwd);
    expect(() => checkJwtSecret(found, 'dev-secret')).toThrow(/verifies tokens with the JWT_SECRET it was started with: set JWT_SECRET/);
    const other = findService({ JWT_SECRET: 'o'.repeat(40) }, cwd);
    expect(() => checkJwtSecret(other, 'o'.repeat(40))).toThrow(ServiceSetupError);
    expect(() => checkJwtSecret(findService({ JWT_SECRET: 's'.repeat(40) }, cwd), 's'.repeat(40))).not.toThrow();
  });

  it('refuses to run on another database than the external one the service uses, naming DATABASE_URL', () => {
    register(setup({ database: { kind: 'external', url: 'postgres://db.internal:5432/memberpay' } }));
    expect(() => checkDatabaseUrl(findService({}, cwd))).toThrow(
      /uses the database postgres:\/\/db.internal:5432\/memberpay: set DATABASE_URL/,
    );
    expect(() => checkDatabaseUrl(findService({ DATABASE_URL: 'postgres://u:p@db.internal/memberpay' }, cwd))).not.toThrow();
  });

  it('without any service, leaves the environment as given', () => {
    expect(findService({ LOG_LEVEL: 'debug' }, cwd)).toEqual({ env: { LOG_LEVEL: 'debug' }, running: false });
  });
});
