import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import Redis from 'ioredis';

/** Ports the specs' own Redis servers are started on (first free one), apart from the machine's 6379. */
const PORTS = { from: 8400, to: 8499 };

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A redis-server of the spec's own, without persistence, that the spec stops and starts again on the
 * same port: an outage of Redis that touches no other user of the machine's Redis.
 */
export class OwnRedisServer {
  port = 0;
  private child?: ChildProcess;
  private output = '';

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) {
      for (let p = PORTS.from; p <= PORTS.to && !this.port; p++) if (await isFree(p)) this.port = p;
      if (!this.port) throw new Error(`no free port for a Redis server in ${PORTS.from}–${PORTS.to}`);
    }
    this.output = '';
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (c: Buffer) => (this.output += c.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server not ready within 30 s:\n${this.output}`)), 30_000);
      const onExit = () => fail(new Error(`redis-server exited:\n${this.output}`));
      const fail = (e: Error) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', check);
        reject(e);
      };
      const check = () => {
        if (!this.output.includes('Ready to accept connections')) return;
        clearTimeout(timer);
        child.off('exit', onExit);
        child.stdout!.off('data', check);
        resolve();
      };
      child.once('exit', onExit);
      child.once('error', (e) => fail(e));
      child.stdout!.on('data', check);
      check();
    });
  }

  /** SIGTERM, and waits until the process has gone (its clients' connections closed with it). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** A client of the spec's own (closed by the caller). */
  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { maxRetriesPerRequest: null });
  }
}
