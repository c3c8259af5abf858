import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | null>;
}

/** The service as ops run it, in a process of its own (ts-node stands in for the build). */
export async function spawnService(env: Record<string, string>, timeoutMs = 60_000, args: string[] = []): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1', NO_COLOR: '1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}:\n${out}`));
    });
  });
  return { child, port, output: () => out, exited };
}

/** Runs the service to completion (for configurations that must stop the boot). */
export function runServiceToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1', NO_COLOR: '1', ...env },
    });
    let output = '';
    child.stdout.on('data', (c) => {
      output += c;
    });
    child.stderr.on('data', (c) => {
      output += c;
    });
    child.on('exit', (code) => resolve({ code, output }));
  });
}
