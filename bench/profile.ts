// Reads the service's V8 CPU profile (`--profile`: node --cpu-prof) and says where its time went
// during each scenario: by package or file, and by function. The profile's timestamps and the
// orchestrator's process.hrtime() read the same monotonic clock, so scenarios are cut by time.
import { readFileSync } from 'node:fs';
import { round } from './stats';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Window {
  name: string;
  startUs: number;
  endUs: number;
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface WindowProfile {
  name: string;
  wallMs: number;
  /** CPU time of the service's main thread in the window (samples that were not idle). */
  busyMs: number;
  byArea: Share[];
  byFunction: Share[];
}

/** node_modules/<package>, node:internal, dist/<folder>, or V8's own (gc, program). */
function area(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/')[0];
  const dist = /\/dist\/(.+?)(?:\/[^/]+)?\.js$/.exec(url);
  return dist ? `memberpay:${dist[1]}` : url;
}

function top(map: Map<string, number>, busy: number, n: number): Share[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: round(us / 1000, 1), percent: round((100 * us) / busy, 1) }));
}

export function summariseProfile(file: string, windows: Window[], n = 12): WindowProfile[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const stats = windows.map(() => ({ busy: 0, areas: new Map<string, number>(), functions: new Map<string, number>() }));
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    // A sample's weight is the time until the next one.
    const weight = profile.timeDeltas[i + 1] ?? 0;
    const frame = nodes.get(profile.samples[i])!.callFrame;
    if (frame.functionName === '(idle)') continue;
    windows.forEach((w, k) => {
      if (t < w.startUs || t >= w.endUs) return;
      const s = stats[k];
      s.busy += weight;
      const a = area(frame);
      s.areas.set(a, (s.areas.get(a) ?? 0) + weight);
      const fn = `${frame.functionName || '(anonymous)'} ${a}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
      s.functions.set(fn, (s.functions.get(fn) ?? 0) + weight);
    });
  }
  return windows.map((w, k) => ({
    name: w.name,
    wallMs: round((w.endUs - w.startUs) / 1000, 0),
    busyMs: round(stats[k].busy / 1000, 0),
    byArea: top(stats[k].areas, stats[k].busy, n),
    byFunction: top(stats[k].functions, stats[k].busy, n),
  }));
}

/** Microseconds on the monotonic clock that V8's profiler uses. */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n);
