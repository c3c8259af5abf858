/**
 * `npm run renewals -- [--as-of <ISO time>] [--dry-run]`: src/subscriptions/renewals.cli.ts with, in
 * development, the sandbox `npm start` runs (scripts/sandbox-cli-env.ts). DATA_DIR, PORT and SANDBOX_PORT
 * are the running service's (src/config/service-setup.ts) unless given.
 */
import { main } from '../src/subscriptions/renewals.cli';
import { runWithService } from './sandbox-cli-env';

runWithService('renewals', 1, main);
