/**
 * `npm run renewals -- [--as-of <ISO time>] [--dry-run]` (in an image: `node dist/src/subscriptions/renewals.cli.js …`):
 * one pass of the renewal job now (or as of the time given), printing what it did: reminders, notices,
 * deductions asked for, renewed, declined, still pending, lapsed. `--dry-run` prints the next step of each
 * due contract and changes nothing. Exit status: 0 done, 1 an error (a contract that could not be taken
 * through, logged; bad arguments; configuration).
 *
 * `--as-of` later than now walks contracts through their cycles (reminder, deduction, the next cycle …)
 * without waiting for the calendar; it is refused in production, where the providers' own clocks decide.
 * Database as for `npm run reconcile`: never a second embedded server over a running service's data.
 */
import { parseArgs as parseCommandLine } from 'node:util';
import { readEnvironment } from '../config/config.module';
import { exitWhenDone, runCommand, type CliCommand } from '../database/cli-database';
import { RenewalJob } from './renewal.job';
import { RenewalsService, type RenewalTally } from './renewals.service';
import { RenewalsCliModule } from './renewals-cli.module';

const USAGE = `usage: npm run renewals -- [--as-of <ISO time>] [--dry-run]

One pass of the renewal job: reminders, pre-deduction notices, deductions, retries, lapses.
Exit status: 0 done, 1 an error (a contract that failed is logged; bad arguments; configuration).

  --as-of TIME   act as if it were TIME (ISO 8601, e.g. 2027-01-06T10:00:00+08:00); later than now is refused in production
  --dry-run      print the next step of each due contract; change nothing
  -h, --help     this text`;
type Out = (line: string) => void;
/** Due contracts the dry run lists at most. */
const DRY_RUN_LIMIT = 1000;

export function parseArgs(argv: string[]): { asOf?: Date; dryRun: boolean } | 'help' | string {
  let values: { 'as-of'?: string; 'dry-run'?: boolean; help?: boolean };
  try {
    ({ values } = parseCommandLine({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { 'as-of': { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    return `${(e as Error).message}\n${USAGE}`;
  }
  if (values.help) return 'help';
  let asOf: Date | undefined;
  if (values['as-of'] !== undefined) {
    // An instant with its offset (or Z): a bare date-time would be read in the machine's zone.
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(values['as-of']))
      return `--as-of needs an ISO time with its offset, e.g. 2027-01-06T10:00:00+08:00\n${USAGE}`;
    asOf = new Date(values['as-of']);
    if (Number.isNaN(asOf.getTime())) return `--as-of is not a time: ${values['as-of']}\n${USAGE}`;
  }
  return { asOf, dryRun: values['dry-run'] ?? false };
}

const RENEWALS: CliCommand<{ asOf?: Date; dryRun: boolean }> = {
  usage: USAGE,
  parse: parseArgs,
  badCall: 1,
  rootModule: (env) => RenewalsCliModule.forRoot(env),
  logger: ['error', 'warn'],
  async work(app, config, args, out) {
    const now = new Date();
    if (args.asOf && args.asOf.getTime() > now.getTime() && config.isProduction) {
      out('--as-of later than now is refused in production: renewals happen when they are due.');
      return 1;
    }
    const at = args.asOf ?? now;
    if (args.dryRun) {
      const steps = await app.get(RenewalsService).plan(at, DRY_RUN_LIMIT);
      out(`renewals as of ${at.toISOString()} (dry run): ${steps.length} contract(s) due`);
      for (const s of steps) out(`  ${s.contractNo} ${s.provider} cycle ${s.cycle}: ${s.step}${s.detail ? ` (${s.detail})` : ''}`);
      return 0;
    }
    const report = (await app.get(RenewalJob).run(at)) as unknown as RenewalTally;
    out(`renewals as of ${at.toISOString()}: ${report.claimed} contract(s) looked at`);
    out(
      `  reminders ${report.reminders}, notices ${report.notices}, deductions ${report.deductions}, renewed ${report.renewed}, ` +
        `declined ${report.declined}, pending ${report.pending}, lapsed ${report.lapsed}, queried ${report.queried}, ` +
        `signings confirmed ${report.confirmed}, released ${report.released}, first periods ${report.firstPeriods}, errors ${report.failed}`,
    );
    return report.failed > 0 ? 1 : 0;
  },
};

export function main(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Out = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  return runCommand(RENEWALS, argv, env, out);
}

if (require.main === module) exitWhenDone('renewals', 1, main(process.argv.slice(2), readEnvironment()));
