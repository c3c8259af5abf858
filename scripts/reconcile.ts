/**
 * `npm run reconcile -- --date YYYY-MM-DD [--provider wechat|alipay]`: src/reconciliation/reconcile.cli.ts
 * with, in development, the sandbox `npm start` runs: a provider left unconfigured is pointed at the
 * sandbox on SANDBOX_PORT with the keys kept under DATA_DIR/sandbox, as the launcher does for the
 * service. This command never starts a sandbox: the bills are those of the one the service uses.
 */
import { config } from 'dotenv';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { memberpayEnv } from '../sandbox/env';
import { credentialsOf } from '../sandbox/index';
import { loadOrCreateKeySet } from '../sandbox/key-files';
import { toSandboxKeys } from '../sandbox/keys';
import { main } from '../src/reconciliation/reconcile.cli';

async function sandboxEnv(): Promise<Record<string, string>> {
  if (process.env.NODE_ENV === 'production') return {};
  const which = { wechat: !process.env.WECHAT_PAY_MCH_ID, alipay: !process.env.ALIPAY_APP_ID };
  const keyDir = resolve(process.env.DATA_DIR ?? './data', 'sandbox');
  if ((!which.wechat && !which.alipay) || !existsSync(resolve(keyDir, 'sandbox-keys.json'))) return {};
  const loaded = await loadOrCreateKeySet(keyDir);
  const url = `http://127.0.0.1:${Number(process.env.SANDBOX_PORT ?? 8002)}`;
  return {
    ...memberpayEnv(credentialsOf(toSandboxKeys(loaded.set, loaded.paths), url), process.env.PORT ?? '8001', which),
    PAYMENT_SANDBOX: '1',
  };
}

config({ quiet: true });
sandboxEnv()
  .then((extra) => main(process.argv.slice(2), { ...process.env, ...extra }))
  .then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`reconcile failed: ${(e as Error)?.message ?? e}\n`);
      process.exit(2);
    },
  );
