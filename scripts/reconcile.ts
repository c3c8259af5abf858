/**
 * `npm run reconcile -- --date YYYY-MM-DD [--provider wechat|alipay]`: src/reconciliation/reconcile.cli.ts
 * with, in development, the sandbox `npm start` runs: a provider left unconfigured is pointed at the
 * sandbox on SANDBOX_PORT with the keys kept under DATA_DIR/sandbox, as the launcher does for the
 * service (scripts/sandbox-cli-env.ts). DATA_DIR, PORT and SANDBOX_PORT are the running service's
 * (src/config/service-setup.ts) unless given. This command never starts a sandbox: the bills are those of the one the service uses.
 */
import { readEnvironment } from '../src/config/config.module';
import { checkDatabaseUrl, findService } from '../src/config/service-setup';
import { main } from '../src/reconciliation/reconcile.cli';
import { sandboxEnv } from './sandbox-cli-env';

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
