// The report of a run, in JSON (everything) and Markdown (what a person reads first).
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { SoakArgs } from './args';
import type { CheckResult, Window } from './checks';
import { ROOT } from '../bench/processes';

export interface SoakReport {
  stamp: string;
  args: SoakArgs;
  passed: boolean;
  loadSeconds: number;
  settleSeconds: number;
  requests: number;
  requestRate: number;
  statuses: Record<string, Record<string, number>>;
  connectionErrors: number;
  unanswered: number;
  outcomes: Record<string, number>;
  faultsByKind: Record<string, number>;
  faults: { at: number; kind: string; what: string }[];
  faultErrors: string[];
  leftFaults: unknown;
  settledRefunds: string[];
  midRunReconciles: number[];
  loadErrors: string[];
  loadErrorCount: number;
  windows: Window[];
  checks: (CheckResult & { name: string })[];
  instances: { name: string; starts: number; unexpectedExits: string[]; logProblems: string[]; rssWarmMb: number; rssEndMb: number }[];
}

const mmss = (ms: number) => {
  const s = Math.round(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

export function markdown(r: SoakReport): string {
  const a = r.args;
  const lines = [
    `# Soak ${r.stamp}: ${r.passed ? 'PASSED' : 'FAILED'}`,
    '',
    `Seed ${a.seed}, ${a.minutes} min, ${a.instances} instances, ${a.rate} req/s, ${a.members} members. Replay: \`npm run soak -- --minutes ${a.minutes} --seed ${a.seed} --instances ${a.instances} --rate ${a.rate} --members ${a.members}\``,
    '',
    `Load ${r.loadSeconds} s, then ${r.settleSeconds} s to settle and check. ${r.requests} requests to the service (${r.requestRate}/s); ${r.connectionErrors} lost to a killed instance (${r.unanswered} left unanswered after retries); ${r.loadErrorCount} errors in the load itself.`,
    '',
    '## Checks',
    '',
    '| | Check | Figures |',
    '|---|---|---|',
    ...r.checks.map((c) => `| ${c.ok ? 'PASS' : '**FAIL**'} | ${c.name} | ${c.detail.replace(/\|/g, '\\|')} |`),
    '',
    '## Faults by kind',
    '',
    '| Kind | Injected |',
    '|---|---|',
    ...Object.entries(r.faultsByKind).map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '## Faults in order',
    '',
    ...r.faults.map((f) => `- ${mmss(f.at)} ${f.kind}: ${f.what}`),
    ...(r.faultErrors.length ? ['', 'Faults that could not be injected:', ...r.faultErrors.map((e) => `- ${e}`)] : []),
    '',
    '## Answers by request',
    '',
    '| Request | Statuses |',
    '|---|---|',
    ...Object.entries(r.statuses).map(
      ([label, s]) =>
        `| ${label} | ${Object.entries(s)
          .map(([k, n]) => `${k}: ${n}`)
          .join(', ')} |`,
    ),
    '',
    '## What the load did',
    '',
    ...Object.entries(r.outcomes).map(([k, n]) => `- ${k}: ${n}`),
    '',
    '## Instances',
    '',
    ...r.instances.map(
      (i) =>
        `- ${i.name}: started ${i.starts} times, memory ${i.rssWarmMb} MB after warm-up, ${i.rssEndMb} MB at the end; unexpected exits ${i.unexpectedExits.length}`,
    ),
    '',
  ];
  const failed = r.checks.filter((c) => !c.ok && c.examples?.length);
  if (failed.length) {
    lines.push('## Examples of what failed', '');
    for (const c of failed) lines.push(`### ${c.name}`, '', '```json', JSON.stringify(c.examples, null, 2).slice(0, 6000), '```', '');
  }
  if (r.loadErrors.length) lines.push('## Load errors (first 50)', '', ...r.loadErrors.map((e) => `- ${e}`), '');
  return lines.join('\n');
}

/** Writes report.json and report.md; returns their paths relative to the repository. */
export function writeReport(dir: string, r: SoakReport): string[] {
  const json = join(dir, 'report.json');
  const md = join(dir, 'report.md');
  writeFileSync(json, JSON.stringify(r, null, 2));
  writeFileSync(md, markdown(r));
  return [relative(ROOT, md), relative(ROOT, json)];
}
