// The cost targets, judged from the one-process pass: CPU per request read from /proc
// (shares of the cores ÷ requests per second), which depends much less on what else the machine
// runs than a throughput does, and memberpay beside the floor measured in the same run.
import type { CpuShares } from './cpu';
import type { PgbenchResult } from './database';
import type { Row } from './report';
import { round } from './stats';

export interface CostTarget {
  what: string;
  measured: string;
  target: string;
  result: 'PASS' | 'miss' | '-';
}

interface PassFigures {
  rows: Row[];
  cpu: Record<string, unknown>;
}

/** ms of CPU per request of one process group (a share in cores over the run's requests per second). */
function perRequest(p: PassFigures, scenario: string, who: keyof CpuShares): number | undefined {
  const rps = p.rows.find((r) => r.scenario === scenario)?.summary?.rps;
  const shares = p.cpu[scenario] as CpuShares | undefined;
  if (!rps || !shares) return undefined;
  return (shares[who] * 1000) / rps;
}

const judged = (ok: boolean | undefined): CostTarget['result'] => (ok === undefined ? '-' : ok ? 'PASS' : 'miss');
const ms = (v: number | undefined) => (v === undefined ? 'n/a' : `${round(v, 3)} ms`);
const times = (v: number | undefined) => (v === undefined ? 'n/a' : `${round(v, 2)}×`);

export function costTargets(p: PassFigures, grants: number, ceiling: PgbenchResult): CostTarget[] {
  const out: CostTarget[] = [];
  const pgSettle = perRequest(p, 'settlement', 'postgres');
  // PostgreSQL's own processes during pgbench, as the scenarios' PostgreSQL share is read (the machine-wide figure counts other work on a shared machine).
  const pgTx = ceiling.postgresOwnMsPerTx;
  const inTx = pgSettle !== undefined && pgTx > 0 ? pgSettle / pgTx : undefined;
  out.push({
    what: "PostgreSQL's CPU per settlement",
    measured: `${ms(pgSettle)} = ${times(inTx)} one pgbench transaction (${pgTx} ms)`,
    target: '≤ 1.5× one pgbench transaction',
    result: judged(inTx === undefined ? undefined : inTx <= 1.5),
  });

  const hist = `settlement (${grants} grants)`;
  for (const who of ['service', 'postgres'] as const) {
    const a = perRequest(p, hist, who);
    const b = perRequest(p, 'settlement', who);
    const ratio = a !== undefined && b ? a / b : undefined;
    out.push({
      what: `${who === 'service' ? "the service's" : "PostgreSQL's"} CPU per settlement, members with ${grants} grants ÷ new members`,
      measured: `${ms(a)} ÷ ${ms(b)} = ${times(ratio)}`,
      target: '≤ 1.2×',
      result: judged(ratio === undefined ? undefined : ratio <= 1.2),
    });
  }

  const me = perRequest(p, `membership/me (${grants} grants)`, 'service');
  out.push({
    what: `the service's CPU per GET /membership/me, members with ${grants} grants`,
    measured: ms(me),
    target: '< 2 ms',
    result: judged(me === undefined ? undefined : me < 2),
  });

  for (const [ours, theirs] of [
    ['settlement', 'floor settlement'],
    ['duplicates', 'floor duplicates'],
  ] as const) {
    const a = p.rows.find((r) => r.scenario === ours)?.summary?.rps;
    const b = p.rows.find((r) => r.scenario === theirs)?.summary?.rps;
    const ratio = a && b ? a / b : undefined;
    // The same comparison in CPU: what a request cost everywhere (service or floor, PostgreSQL, load generator).
    const cost = (s: string) =>
      (['service', 'postgres', 'loadGenerator'] as const).reduce<number | undefined>((sum, who) => {
        const v = perRequest(p, s, who);
        return sum === undefined || v === undefined ? undefined : sum + v;
      }, 0);
    const ca = cost(ours);
    const cb = cost(theirs);
    out.push({
      what: `${ours}: memberpay ÷ floor, requests per second`,
      measured: `${a?.toFixed(0) ?? 'n/a'} ÷ ${b?.toFixed(0) ?? 'n/a'} req/s = ${times(ratio)} (by CPU per request everywhere: floor ${ms(cb)} ÷ memberpay ${ms(ca)} = ${times(ca && cb ? cb / ca : undefined)})`,
      target: '≥ 0.6×',
      result: judged(ratio === undefined ? undefined : ratio >= 0.6),
    });
  }
  return out;
}
