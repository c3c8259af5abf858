/**
 * `npm run reconcile -- --date YYYY-MM-DD [--provider wechat|alipay]`: src/reconciliation/reconcile.cli.ts
 * with, in development, the sandbox `npm start` runs: a provider left unconfigured is pointed at the
 * sandbox on SANDBOX_PORT with the keys kept under DATA_DIR/sandbox, as the launcher does for the
 * service (scripts/sandbox-cli-env.ts). DATA_DIR, PORT and SANDBOX_PORT are the running service's
 * (src/config/service-setup.ts) unless given. This command never starts a sandbox: the bills are those of the one the service uses.
 */
import { main } from '../src/reconciliation/reconcile.cli';
import { runWithService } from './sandbox-cli-env';

runWithService('reconcile', 2, main);
