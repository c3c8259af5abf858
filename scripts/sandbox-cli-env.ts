/**
 * The environment a one-shot command (`npm run reconcile`, `npm run renewals`) adds in development: a
 * provider left unconfigured is pointed at the sandbox `npm start` runs on SANDBOX_PORT, with the keys kept
 * under DATA_DIR/sandbox, as the launcher does for the service. These commands never start a sandbox: they
 * talk to the one the service uses.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { memberpayEnv } from '../sandbox/env';
import { credentialsOf } from '../sandbox/index';
import { loadOrCreateKeySet } from '../sandbox/key-files';
import { toSandboxKeys } from '../sandbox/keys';
import { readEnvironment } from '../src/config/config.module';
import { exitWhenDone } from '../src/database/cli-database';
import { checkDatabaseUrl, findService, ServiceSetupError, type Env } from '../src/config/service-setup';

export async function sandboxEnv(env: Env): Promise<Record<string, string>> {
  if (env.NODE_ENV === 'production') return {};
  const which = { wechat: !env.WECHAT_PAY_MCH_ID, alipay: !env.ALIPAY_APP_ID };
  const keyDir = resolve(env.DATA_DIR ?? './data', 'sandbox');
  if ((!which.wechat && !which.alipay) || !existsSync(resolve(keyDir, 'sandbox-keys.json'))) return {};
  const loaded = await loadOrCreateKeySet(keyDir);
  const url = `http://127.0.0.1:${Number(env.SANDBOX_PORT ?? 8002)}`;
  // Say where the sandbox was looked for and what moves it.
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

/**
 * Runs a command's `main` as `npm run <name>` does: with the running service's DATA_DIR, PORT and
 * SANDBOX_PORT (src/config/service-setup.ts) unless given, and this sandbox environment; --help needs
 * no setup. Ends the process with the command's exit status (`failure` when it throws).
 */
export function runWithService(
  name: string,
  failure: number,
  main: (argv: string[], env: Record<string, string | undefined>) => Promise<number>,
  argv = process.argv.slice(2),
): void {
  const run = async () => {
    if (argv.some((a) => a === '--help' || a === '-h')) return main(argv, {});
    const found = findService(readEnvironment());
    checkDatabaseUrl(found);
    return main(argv, { ...found.env, ...(await sandboxEnv(found.env)) });
  };
  exitWhenDone(name, failure, run());
}
