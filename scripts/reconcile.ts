/**
 * `npm run reconcile -- --date YYYY-MM-DD [--provider wechat|alipay]`: src/reconciliation/reconcile.cli.ts
 * with, in development, the sandbox `npm start` runs: a provider left unconfigured is pointed at the
 * sandbox on SANDBOX_PORT with the keys kept under DATA_DIR/sandbox, as the launcher does for the
 * service. DATA_DIR, PORT and SANDBOX_PORT are the running service's (src/config/service-setup.ts)
 * unless given. This command never starts a sandbox: the bills are those of the one the service uses.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { memberpayEnv } from '../sandbox/env';
import { credentialsOf } from '../sandbox/index';
import { loadOrCreateKeySet } from '../sandbox/key-files';
import { toSandboxKeys } from '../sandbox/keys';
import { readEnvironment } from '../src/config/config.module';
import { checkDatabaseUrl, findService, ServiceSetupError, type Env } from '../src/config/service-setup';
import { main } from '../src/reconciliation/reconcile.cli';

async function sandboxEnv(env: Env): Promise<Record<string, string>> {
  if (env.NODE_ENV === 'production') return {};
  const which = { wechat: !env.WECHAT_PAY_MCH_ID, alipay: !env.ALIPAY_APP_ID };
  const keyDir = resolve(env.DATA_DIR ?? './data', 'sandbox');
  if ((!which.wechat && !which.alipay) || !existsSync(resolve(keyDir, 'sandbox-keys.json'))) return {};
  const loaded = await loadOrCreateKeySet(keyDir);
  const url = `http://127.0.0.1:${Number(env.SANDBOX_PORT ?? 8002)}`;
  // The bills come from the sandbox `npm start` runs: say where it was looked for and what moves it.
  const answers = await fetch(`${url}/sandbox/health`).then(
    () => true,
    () => false,
  );
  if (!answers) {
    throw new ServiceSetupError(
      `the provider sandbox does not answer at ${url}: start the service (\`npm start\`), or set SANDBOX_PORT (and DATA_DIR) to those it runs with`,
    );
  }
  return {
    ...memberpayEnv(credentialsOf(toSandboxKeys(loaded.set, loaded.paths), url), env.PORT ?? '8001', which),
    PAYMENT_SANDBOX: '1',
  };
}

async function run(argv: string[]): Promise<number> {
  // --help and bad arguments need no setup.
  if (argv.some((a) => a === '--help' || a === '-h')) return main(argv, {});
  const found = findService(readEnvironment());
  checkDatabaseUrl(found);
  return main(argv, { ...found.env, ...(await sandboxEnv(found.env)) });
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`reconcile failed: ${(e as Error)?.message ?? e}\n`);
    process.exit(2);
  },
);
