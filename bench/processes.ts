// The bench's child processes: started, tracked and always stopped, also on failure and SIGINT.
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..');
/** The checkout whose build is measured (dist/): this one, or another given as BENCH_APP_DIR. */
export const APP_DIR = process.env.BENCH_APP_DIR ?? ROOT;

/**
 * A file of APP_DIR's build. Builds from before migrations/ moved to the top have no dist/src/ and
 * their data source under dist/database/; they stay measurable as a "before".
 */
export function built(file: 'main.js' | 'data-source.js'): string {
  if (existsSync(join(APP_DIR, 'dist/src/main.js'))) return join(APP_DIR, 'dist/src', file);
  return join(APP_DIR, 'dist', file === 'data-source.js' ? 'database/data-source.js' : file);
}
const TS_NODE = require.resolve('ts-node/register/transpile-only');
const KEEP_OUTPUT = 64 * 1024;

export interface Child {
  name: string;
  proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const running = new Set<Child>();
// Whatever way the bench ends, no child outlives it (the orderly path has stopped them already).
process.on('exit', () => {
  for (const child of running) child.proc.kill('SIGKILL');
});

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  ipc?: boolean;
}

/** A minimal environment: PATH plus what is given, so nothing of the caller's leaks into a measurement. */
function childEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env };
}

export function start(name: string, command: string, args: string[], opts: StartOptions = {}): Child {
  const proc = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.ipc ? ['ipc' as const] : [])],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > KEEP_OUTPUT) out = out.slice(-KEEP_OUTPUT);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : null)));
    proc.once('error', (e) => {
      keep(Buffer.from(`spawn failed: ${e.message}\n`));
      resolve(null);
    });
  });
  const child: Child = { name, proc, output: () => out, exited };
  running.add(child);
  void exited.then(() => running.delete(child));
  return child;
}

/** A TypeScript file of the bench in its own Node.js process. */
export function startTs(name: string, file: string, args: string[], opts: StartOptions & { nodeArgs?: string[] } = {}): Child {
  return start(name, process.execPath, [...(opts.nodeArgs ?? []), '-r', TS_NODE, join(ROOT, 'bench', file), ...args], opts);
}

/** Waits for a started child to end; rejects with its output when the exit code is not 0. */
export async function finished(child: Child): Promise<string> {
  const code = await child.exited;
  if (code !== 0) throw new Error(`${child.name} exited with ${code}:\n${child.output().slice(-4000)}`);
  return child.output();
}

/** Runs to completion; rejects with the output when the exit code is not 0. */
export const run = (name: string, command: string, args: string[], opts: StartOptions = {}): Promise<string> =>
  finished(start(name, command, args, opts));

export const runTs = (name: string, file: string, args: string[], opts: StartOptions = {}): Promise<string> =>
  finished(startTs(name, file, args, opts));

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(child: Child, graceMs = 30_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

export async function stopAll(graceMs?: number): Promise<void> {
  await Promise.all([...running].map((c) => stop(c, graceMs)));
}
