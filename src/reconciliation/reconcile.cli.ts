/**
 * `npm run reconcile -- --date 2026-11-28 [--provider wechat|alipay]` (in an image:
 * `node dist/src/reconciliation/reconcile.cli.js …`): reconciles a day now, replacing any earlier
 * result for it, and prints the counts and every discrepancy. Exit status: 0 nothing open,
 * 1 a discrepancy is open, 2 the day could not be reconciled (bad arguments, configuration,
 * bill not ready or refused, provider down).
 *
 * Database: DATABASE_URL when set; otherwise the embedded PostgreSQL under DATA_DIR — the one the
 * running service started when it runs (never a second server over its data directory), or one
 * started for this command and stopped after it.
 */
import { parseArgs as parseCommandLine } from 'node:util';
import { isCalendarDay } from '../common/beijing-day';
import { readEnvironment } from '../config/config.module';
import { exitWhenDone, runCommand, type CliCommand } from '../database/cli-database';
import { PROVIDER_NAMES, type ProviderName } from '../payments/provider-name';
import { ProviderRegistry } from '../payments/provider-registry';
import { ReconcileCliModule } from './reconcile-cli.module';
import type { ItemRow } from './reconciliation.repository';
import { ReconcileResult, ReconciliationService } from './reconciliation.service';

const USAGE = `usage: npm run reconcile -- --date YYYY-MM-DD [--provider ${PROVIDER_NAMES.join('|')}]

Reconciles that Beijing day's bills now (replacing an earlier result for it) and prints every
discrepancy. Exit status: 0 nothing open, 1 a discrepancy is open, 2 the day could not be reconciled.

  --date YYYY-MM-DD   the day (required)
  --provider NAME     one provider (default: each configured one)
  -h, --help          this text`;
type Out = (line: string) => void;

/** The arguments, `'help'` for --help, or a message (with the usage) for arguments that make no sense. */
export function parseArgs(argv: string[]): { date: string; provider?: ProviderName } | 'help' | string {
  let values: { date?: string; provider?: string; help?: boolean };
  try {
    ({ values } = parseCommandLine({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { date: { type: 'string' }, provider: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    return `${(e as Error).message}\n${USAGE}`;
  }
  if (values.help) return 'help';
  if (values.date === undefined) return USAGE;
  if (!isCalendarDay(values.date)) return `--date needs a day, YYYY-MM-DD\n${USAGE}`;
  if (values.provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(values.provider)) {
    return `--provider is ${PROVIDER_NAMES.join(' or ')}\n${USAGE}`;
  }
  return { date: values.date, provider: values.provider as ProviderName | undefined };
}

const RECONCILE: CliCommand<{ date: string; provider?: ProviderName }> = {
  usage: USAGE,
  parse: parseArgs,
  badCall: 2,
  rootModule: (env) => ReconcileCliModule.forRoot(env),
  logger: ['error'],
  async work(app, _config, args, out) {
    const registry = app.get(ProviderRegistry);
    const providers = args.provider ? [args.provider] : PROVIDER_NAMES.filter((p) => registry.find(p));
    if (!providers.length) {
      out('No payment provider is configured.');
      return 2;
    }
    if (args.provider && !registry.find(args.provider)) {
      out(`${args.provider} is not configured.`);
      return 2;
    }
    let status = 0;
    for (const provider of providers) {
      const result = await app.get(ReconciliationService).reconcile(provider, args.date, { force: true });
      status = Math.max(status, report(provider, args.date, result, out));
    }
    return status;
  },
};

export function main(
  argv: string[],
  env: Record<string, string | undefined>,
  out: Out = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  return runCommand(RECONCILE, argv, env, out);
}

function report(provider: string, day: string, result: ReconcileResult, out: Out): number {
  if (result.status === 'skipped') {
    out(`${provider} ${day}: another process is reconciling this day right now; try again in a moment.`);
    return 2;
  }
  if (result.status !== 'completed') {
    out(`${provider} ${day}: ${result.status === 'not_ready' ? 'the bill is not ready' : 'not reconciled'}: ${result.reason}`);
    return 2;
  }
  const r = result.run;
  out(`${provider} ${day}: ${r.billRows} bill row(s)${r.billSha1 ? `, bill SHA1 ${r.billSha1}` : ', no bill file (no trades)'}`);
  out(
    `  matched ${r.matched}, missing locally ${r.missingLocally}, missing at the provider ${r.missingAtProvider}, ` +
      `amount mismatch ${r.amountMismatch}, status mismatch ${r.statusMismatch}; open ${r.openItems}`,
  );
  for (const item of result.discrepancies) out(`  ${line(item)}`);
  return r.openItems > 0 ? 1 : 0;
}

function line(i: ItemRow): string {
  const state =
    i.outcome !== 'matched' && !i.resolvedAt
      ? 'OPEN'
      : i.action === 'settled'
        ? 'settled by reconciliation'
        : i.resolvedAt
          ? `resolved by ${i.resolvedBy}`
          : 'matched';
  return (
    `${i.outcome.padEnd(19)} ${i.kind} ${i.reference}  ours ${i.localAmount ?? '-'} fen ${i.localStatus ?? '-'}, theirs ${i.providerAmount ?? '-'} fen ${i.providerStatus ?? '-'}  ` +
    `[${state}] item ${i.id}${i.detail ? ` — ${i.detail}` : ''}`
  );
}

if (require.main === module) exitWhenDone('reconcile', 2, main(process.argv.slice(2), readEnvironment()));
