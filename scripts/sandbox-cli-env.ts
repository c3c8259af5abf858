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
import { ServiceSetupError, type Env } from '../src/config/service-setup';

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
