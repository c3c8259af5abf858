// The table `npm run bench` prints: each figure, its ratio to pgbench's tps, and the issue's target.
import type { SettlementCheck } from './database';
import { LoadSummary, round } from './stats';

export interface Target {
  /** Minimum throughput as a fraction of pgbench's tps. */
  minRatio?: number;
  /** Maximum p99 in milliseconds. */
  maxP99Ms?: number;
}

/** Throughput targets, judged in the table; the cost targets (CPU per request, × floor) are judged under it (run.ts). */
export const TARGETS: Record<string, Target> = {
  'create-order': { minRatio: 0.1 },
  settlement: { minRatio: 0.3, maxP99Ms: 40 },
  duplicates: { minRatio: 0.8 },
  'event delivery': { maxP99Ms: 50 },
  'webhook delivery': { maxP99Ms: 100 },
};

export interface Row {
  scenario: string;
  available: boolean;
  note?: string;
  summary?: LoadSummary;
  check?: SettlementCheck;
  ratio?: number;
  target: string;
  /** The targets of the issue. */
  meetsTarget?: boolean;
  /** No errors, and every order paid and granted exactly once: otherwise the bench failed. */
  correct: boolean;
  /** Service processes (1, or a cluster primary's workers). */
  processes?: number;
  /** Resident memory of the service (with its workers) after the scenario, in MB. */
  rssMb?: number;
}

function targetText(t: Target): string {
  if (t.minRatio === undefined && t.maxP99Ms === undefined) return '0 errors';
  return (
    [t.minRatio !== undefined && `≥ ${t.minRatio}× pgbench`, t.maxP99Ms !== undefined && `p99 < ${t.maxP99Ms} ms`]
      .filter(Boolean)
      .join(', ') + ', 0 errors'
  );
}

export function row(scenario: string, pgbenchTps: number, summary: LoadSummary | undefined, check?: SettlementCheck, note?: string): Row {
  const target = TARGETS[scenario] ?? {};
  if (!summary) return { scenario, available: false, note, target: targetText(target), correct: true };
  const ratio = round(summary.rps / pgbenchTps, 3);
  const checkOk = !check || (check.paid === check.orders && check.grants === check.orders && check.doubleGrants === 0);
  const correct = summary.errors === 0 && checkOk;
  const fast =
    (target.minRatio === undefined || ratio >= target.minRatio) && (target.maxP99Ms === undefined || summary.p99 < target.maxP99Ms);
  return { scenario, available: true, note, summary, check, ratio, target: targetText(target), meetsTarget: fast && correct, correct };
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

export function table(rows: Row[], pgbench: { tps: number; latencyAvgMs: number; clients: number; scale: number }): string {
  const head = ['scenario', 'procs', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'grants', '× pgbench', 'RSS MB', 'target', 'result'];
  const procs = (r: Row) => String(r.processes ?? 1);
  const rss = (r: Row) => (r.rssMb === undefined ? '-' : String(r.rssMb));
  const body = rows.map((r) => {
    if (!r.available)
      return [r.scenario, procs(r), '-', '-', '-', '-', '-', '-', rss(r), r.target, `not available${r.note ? ` (${r.note})` : ''}`];
    const s = r.summary!;
    const grants = r.check ? `${r.check.grants}/${r.check.orders}${r.check.doubleGrants ? ` (${r.check.doubleGrants} double)` : ''}` : '-';
    const ratio = r.ratio === undefined ? '-' : r.ratio.toFixed(2);
    return [
      r.scenario,
      procs(r),
      s.rps.toFixed(0),
      s.p50.toFixed(1),
      s.p99.toFixed(1),
      String(s.errors),
      grants,
      ratio,
      rss(r),
      r.target,
      r.meetsTarget ? 'PASS' : r.correct ? 'miss' : 'FAIL',
    ];
  });
  const first = [
    'pgbench (ceiling)',
    '-',
    pgbench.tps.toFixed(0),
    '-',
    '-',
    '-',
    '-',
    '1.00',
    '-',
    `TPC-B-like, scale ${pgbench.scale}, ${pgbench.clients} clients, avg ${pgbench.latencyAvgMs} ms`,
    '',
  ];
  const all = [head, first, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((cells) => cells[i].length)));
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [pad(head, widths), rule, ...all.slice(1).map((cells) => pad(cells, widths))].join('\n');
}
