/**
 * `npm run renewals -- [--as-of <ISO time>] [--dry-run]`: src/subscriptions/renewals.cli.ts with, in
 * development, the sandbox `npm start` runs (scripts/sandbox-cli-env.ts). DATA_DIR, PORT and SANDBOX_PORT
 * are the running service's (src/config/service-setup.ts) unless given.
 */
import { readEnvironment } from '../src/config/config.module';
import { checkDatabaseUrl, findService } from '../src/config/service-setup';
import { main } from '../src/subscriptions/renewals.cli';
import { sandboxEnv } from './sandbox-cli-env';

async function run(argv: string[]): Promise<number> {
  if (argv.some((a) => a === '--help' || a === '-h')) return main(argv, {});
  const found = findService(readEnvironment());
  checkDatabaseUrl(found);
  return main(argv, { ...found.env, ...(await sandboxEnv(found.env)) });
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`renewals failed: ${(e as Error)?.message ?? e}\n`);
    process.exit(1);
  },
);
