import type { Client } from 'pg';
import { startTestApp, TestApp, TestAppOptions } from './app';
import { connect } from './db';
import { expectInvariants } from './invariants';
import { Sandbox, startTestSandbox } from './sandbox';

type Env = Record<string, string | undefined>;

export interface UseAppOptions extends TestAppOptions {
  /** Start a provider sandbox before the app (the env function may then read `sb`). */
  sandbox?: boolean;
}

/**
 * A stand-in for something started in `beforeAll`: the spec can name it at the top of its describe
 * (and hand it to helpers) while the real object exists only once the hook has run. Every property
 * read goes to the started object; methods are bound to it, so they behave as on the object itself.
 */
function startedLater<T extends object>(what: string, current: () => T | undefined): T {
  const target = () => {
    const t = current();
    if (!t) throw new Error(`${what} is used before it started (it starts in beforeAll)`);
    return t;
  };
  return new Proxy({} as T, {
    get(_, prop) {
      const t = target();
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
    has: (_, prop) => Reflect.has(target(), prop),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, prop) => {
      const d = Reflect.getOwnPropertyDescriptor(target(), prop);
      return d && { ...d, configurable: true };
    },
  });
}

/**
 * Checks the invariants (test/support/invariants.ts) on the database after each test of the
 * enclosing describe. For specs that start the service their own way (several instances, a
 * separate process): `db` gives a direct connection, or the database's URL (a connection is opened
 * for the check), or undefined when there is none (the start failed, which its hook reports).
 */
export function withInvariants(db: () => Client | string | undefined): void {
  afterEach(async () => {
    const target = db();
    if (typeof target !== 'string') {
      if (target) await expectInvariants(target);
      return;
    }
    const client = await connect(target);
    try {
      await expectInvariants(client);
    } finally {
      await client.end();
    }
  });
}

/**
 * The lifecycle of an e2e spec's describe: before all its tests, the sandbox (with
 * `{ sandbox: true }`) then the application on a fresh database; after each test, the invariants;
 * after all, both closed. `t` and `sb` can be used as soon as `beforeAll` has run.
 *
 *   const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
 */
export function useApp(env: Env | ((port: number) => Env) = {}, options: UseAppOptions = {}): { t: TestApp; sb: Sandbox } {
  let app: TestApp | undefined;
  let sandbox: Sandbox | undefined;
  const { sandbox: withSandbox, ...appOptions } = options;
  beforeAll(async () => {
    if (withSandbox) sandbox = await startTestSandbox();
    app = await startTestApp(env, appOptions);
  });
  withInvariants(() => app?.db);
  afterAll(async () => {
    await app?.close();
    await sandbox?.close();
  });
  return { t: startedLater('the test app', () => app), sb: startedLater('the sandbox', () => sandbox) };
}
