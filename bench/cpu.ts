// Where the machine's two cores went during a measured window, from /proc: the service, the
// sandbox, PostgreSQL (our database's backends and the server's background processes), the load
// generator (which reports its own process.cpuUsage()), and everything else on the machine,
// which is other people's work when the machine is shared. Linux only; empty elsewhere.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Client } from 'pg';
import { round } from './stats';

export interface CpuShares {
  /** Cores busy on average (2.0 = both cores all the time). */
  machine: number;
  service: number;
  sandbox: number;
  postgres: number;
  loadGenerator: number;
  other: number;
}

export interface Snapshot {
  machineBusy: number;
  machineTotal: number;
  pids: Map<number, number>;
  at: number;
}

/** Linux's clock ticks (USER_HZ), the unit of /proc/stat and /proc/<pid>/stat: 100 on every common build. */
export const TICKS_PER_SECOND = 100;

export function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = line.reduce((a, b) => a + b, 0);
  const idle = line[3] + (line[4] ?? 0);
  return { busy: total - idle, total };
}

export function pidTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The process and its descendants (a cluster primary and its workers), from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const children = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (children) out.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Resident memory of the process and its descendants, in bytes (VmRSS; 0 off Linux). */
export function residentBytes(pid: number): number {
  if (process.platform !== 'linux') return 0;
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone meanwhile
    }
  }
  return kb * 1024;
}

/** What a measuring process needs to know to take snapshots. */
export interface MeterSpec {
  dbUrl: string;
  dbName: string;
  servicePid: number;
  sandboxPid: number;
}

export class CpuMeter {
  private readonly dbUrl: string;
  private readonly dbName: string;
  private readonly servicePid: number;
  private readonly sandboxPid: number;

  constructor(spec: MeterSpec) {
    ({ dbUrl: this.dbUrl, dbName: this.dbName, servicePid: this.servicePid, sandboxPid: this.sandboxPid } = spec);
  }

  private async postgresPids(): Promise<number[]> {
    const client = new Client({ connectionString: this.dbUrl, application_name: 'memberpay-bench-cpu' });
    await client.connect();
    try {
      const { rows } = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE (datname = $1 AND application_name <> 'memberpay-bench-cpu') OR backend_type <> 'client backend'`,
        [this.dbName],
      );
      return rows.map((r) => r.pid);
    } finally {
      await client.end();
    }
  }

  async snapshot(): Promise<Snapshot> {
    if (process.platform !== 'linux') return { machineBusy: 0, machineTotal: 0, pids: new Map(), at: Date.now() };
    const pg = await this.postgresPids().catch(() => []);
    const m = machineTicks();
    const pids = new Map<number, number>();
    for (const pid of [this.sandboxPid, ...pg]) pids.set(pid, pidTicks(pid));
    // The service with its workers, when it runs as several processes.
    pids.set(
      this.servicePid,
      processTree(this.servicePid).reduce((sum, pid) => sum + pidTicks(pid), 0),
    );
    return { machineBusy: m.busy, machineTotal: m.total, pids, at: Date.now() };
  }

  /** Shares between two snapshots; `loadGeneratorUs` is the CPU time the load generator reported. */
  shares(a: Snapshot, b: Snapshot, loadGeneratorUs: number): CpuShares {
    const cores = cpus().length;
    const asCores = (ticks: number) => (ticks / (b.machineTotal - a.machineTotal)) * cores;
    const delta = (pid: number) => (b.pids.get(pid) ?? 0) - (a.pids.get(pid) ?? 0);
    const service = asCores(delta(this.servicePid));
    const sandbox = asCores(delta(this.sandboxPid));
    let pg = 0;
    for (const pid of new Set([...a.pids.keys(), ...b.pids.keys()])) {
      if (pid !== this.servicePid && pid !== this.sandboxPid) pg += Math.max(0, delta(pid));
    }
    const postgres = asCores(pg);
    const loadGenerator = loadGeneratorUs / 1e6 / ((b.at - a.at) / 1000);
    const machine = asCores(b.machineBusy - a.machineBusy);
    return {
      machine: round(machine),
      service: round(service),
      sandbox: round(sandbox),
      postgres: round(postgres),
      loadGenerator: round(loadGenerator),
      other: round(Math.max(0, machine - service - sandbox - postgres - loadGenerator)),
    };
  }
}

/** Cores busy on the whole machine over the next `ms` milliseconds (NaN off Linux). */
export async function busyCores(ms = 1000): Promise<number> {
  if (process.platform !== 'linux') return Number.NaN;
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return round(((b.busy - a.busy) / (b.total - a.total)) * cpus().length);
}

export function formatShares(s: CpuShares): string {
  return `CPU in cores of ${cpus().length}: machine ${s.machine} = service ${s.service} + postgres ${s.postgres} + load generator ${s.loadGenerator} + sandbox ${s.sandbox} + other ${s.other}`;
}
