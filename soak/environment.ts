// What the soak runs against: a database of its own on the machine's PostgreSQL, a Redis server of
// its own, the provider sandbox (in this process) and the instances of the built service, each a
// process the soak can SIGKILL and start again on the same port.
import { createWriteStream, mkdirSync, WriteStream } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { memberpayEnv } from '../sandbox/env';
import type { SandboxCredentials } from '../sandbox/index';
import type { SandboxReady } from './sandbox-process';
import { freePort } from '../src/common/net';
import { residentBytes } from '../bench/cpu';
import { databaseAdmin, migrate as migrateBuilt } from '../bench/database';
import { built, Child, ROOT, start, stop } from '../bench/processes';
import { until } from './wait';

export const ADMIN_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** The soak's own connections carry this name, so that cutting the service's connections spares them. */
export const SOAK_APP_NAME = 'memberpay-soak';
export const JWT_SECRET = 'memberpay-soak-secret-0123456789abcdef';

const admin = databaseAdmin(ADMIN_URL, SOAK_APP_NAME);
export const { databaseUrl, withClient, createDatabase, dropDatabase } = admin;

/** The migrations as ops run them, from the build. */
export const migrate = (url: string, cwd: string): Promise<void> => migrateBuilt(url, { NODE_ENV: 'development', DATA_DIR: cwd }, cwd);

/** Cuts every connection of the service's to the database (pg_terminate_backend); returns how many. */
export async function cutDatabase(db: Client, name: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND application_name <> $2`,
    [name, SOAK_APP_NAME],
  );
  return rows[0].n;
}

/** A Redis server of the soak's own, so that stopping it touches nobody else's. */
export class RedisServer {
  private child?: Child;
  constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = start('redis', 'redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
    ]);
    const child = this.child;
    await until(`Redis on port ${this.port}`, 30_000, async () => {
      if (child.proc.exitCode !== null) throw new Error(`redis-server exited:\n${child.output()}`);
      return child.output().includes('Ready to accept connections');
    });
  }

  async stop(): Promise<void> {
    if (this.child) await stop(this.child, 5_000);
    this.child = undefined;
  }
}

/** The sandbox as the soak sees it: where it is, the keys the instances use, and how to stop it. */
export interface Sandbox {
  url: string;
  credentials: SandboxCredentials;
  close(): Promise<void>;
}

/** The sandbox in its own process, its notification resends compressed so that a short run sees them. */
export async function startSoakSandbox(keyDir: string, timeScale: number): Promise<Sandbox> {
  const child = start(
    'sandbox',
    process.execPath,
    ['-r', require.resolve('ts-node/register/transpile-only'), join(ROOT, 'soak', 'sandbox-process.ts'), keyDir, String(timeScale)],
    {
      ipc: true,
      env: { NODE_ENV: 'development' },
    },
  );
  const ready = await new Promise<SandboxReady>((resolve, reject) => {
    child.proc.once('message', (m) => resolve(m as SandboxReady));
    void child.exited.then((code) => reject(new Error(`sandbox exited with ${code}:\n${child.output()}`)));
  });
  return { ...ready, close: () => stop(child, 5_000) };
}

export interface InstanceOptions {
  index: number;
  cwd: string;
  logDir: string;
  env: Record<string, string>;
  sandbox: Sandbox;
}

/** One instance of the service: a port of its own, kept across restarts; its output appended to a log file. */
export class Instance {
  readonly name: string;
  port = 0;
  child?: Child;
  up = false;
  starts = 0;
  /** Exits the soak did not cause (a crash). */
  readonly unexpectedExits: string[] = [];
  private log?: WriteStream;
  private expectingExit = false;

  constructor(private readonly opts: InstanceOptions) {
    this.name = `instance-${String.fromCharCode(97 + opts.index)}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return join(this.opts.logDir, `${this.name}.log`);
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    mkdirSync(this.opts.logDir, { recursive: true });
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    this.log.write(`\n=== soak: ${this.name} start #${this.starts + 1} at ${new Date().toISOString()} ===\n`);
    const child = start(this.name, process.execPath, [built('main.js')], {
      cwd: this.opts.cwd,
      env: {
        ...this.opts.env,
        ...memberpayEnv(this.opts.sandbox.credentials, String(this.port), { wechat: true, alipay: true }),
        PAYMENT_SANDBOX: '1',
        PORT: String(this.port),
      },
    });
    this.child = child;
    this.starts++;
    this.expectingExit = false;
    child.proc.stdout!.on('data', (c: Buffer) => this.log!.write(c));
    child.proc.stderr!.on('data', (c: Buffer) => this.log!.write(c));
    void child.exited.then((code) => {
      this.up = false;
      if (!this.expectingExit) this.unexpectedExits.push(`${new Date().toISOString()} exit ${code}`);
    });
    await until(`${this.name} answering /health on port ${this.port}`, 120_000, async () => {
      if (child.proc.exitCode !== null || child.proc.signalCode !== null)
        throw new Error(`${this.name} exited while starting:\n${child.output().slice(-3000)}`);
      return fetch(`${this.url}/health`, { signal: AbortSignal.timeout(5_000) }).then(
        (r) => r.ok,
        () => false,
      );
    });
    this.up = true;
  }

  /** SIGKILL, as a crash or an OOM kill would: nothing is flushed, nothing closed. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.expectingExit = true;
    this.up = false;
    child.proc.kill('SIGKILL');
    await child.exited;
  }

  /** SIGTERM, the orderly end of the run. */
  async stop(): Promise<void> {
    if (!this.child) return;
    this.expectingExit = true;
    this.up = false;
    await stop(this.child, 30_000);
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  rss(): number {
    const pid = this.child?.proc.pid;
    return pid && this.up ? residentBytes(pid) : 0;
  }
}
