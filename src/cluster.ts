import cluster, { type Worker } from 'node:cluster';
import { setupPrimary as setupClusterAdapterPrimary } from '@socket.io/cluster-adapter';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { AppConfig } from './config/app-config';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from './database/embedded-postgres';
import { typeormOptions } from './database/typeorm-options';

/** `--workers N` on the command line, else WEB_CONCURRENCY (validated in the configuration). */
export function workersFromArgs(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('--workers');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--workers='))?.slice('--workers='.length);
}

/** A worker that dies this soon after starting is taken as unable to start: the cluster stops rather than loop. */
const STARTUP_GRACE_MS = 60_000;
/** How long after SIGTERM the primary waits for its workers to drain before it kills them. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * The primary of `WEB_CONCURRENCY` > 1: starts the workers (each a whole memberpay, dist/src/main.js)
 * that share the port through Node's cluster module, replaces a worker that dies, and drains them
 * on SIGTERM/SIGINT. It serves nothing itself. On the embedded database it starts PostgreSQL and
 * migrates it once, then hands the workers its URL: one server, started and stopped here only.
 * socket.io events cross workers through Redis when REDIS_URL is set, otherwise through this
 * process (@socket.io/cluster-adapter).
 */
export async function runPrimary(config: AppConfig, workers: number, mainFile: string): Promise<void> {
  const logger = new Logger('Cluster');
  let embedded: EmbeddedPostgresHandle | undefined;
  // Workers read the worker count from their environment (a --workers option reached only the primary).
  const env: Record<string, string> = { MEMBERPAY_WORKER: '1', WEB_CONCURRENCY: String(workers) };
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, (line) => logger.log(line));
    const migrator = new DataSource({ ...typeormOptions(embedded.url, { poolSize: 1 }), migrationsRun: false });
    try {
      await migrator.initialize();
      await migrator.runMigrations();
    } finally {
      if (migrator.isInitialized) await migrator.destroy();
    }
    env.DATABASE_URL = embedded.url;
  }
  if (!config.redisUrl) setupClusterAdapterPrimary();
  // Workers run the service's entry itself, also when the primary was started through another
  // one (npm start's launcher); they inherit Node's own flags (execArgv).
  cluster.setupPrimary({ exec: mainFile, args: [] });

  let closing = false;
  const started = new Map<Worker, number>();
  const fork = () => started.set(cluster.fork(env), Date.now());
  const stopEmbedded = async () => {
    await embedded?.stop();
  };

  cluster.on('exit', (worker, code, signal) => {
    const since = Date.now() - (started.get(worker) ?? 0);
    started.delete(worker);
    if (closing) {
      if (started.size === 0) void stopEmbedded().then(() => process.exit(process.exitCode ?? 0));
      return;
    }
    logger.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    if (since < STARTUP_GRACE_MS && code !== 0) {
      // A worker that cannot start (configuration, database) will not start the next time either.
      logger.error('a worker failed while starting: stopping the cluster');
      shutdown(1);
      return;
    }
    fork();
  });

  const shutdown = (exitCode = 0) => {
    if (closing) return;
    closing = true;
    logger.log(`draining ${started.size} workers and shutting down`);
    const force = setTimeout(() => {
      logger.error('Workers took too long to drain; exiting');
      for (const w of started.keys()) w.process.kill('SIGKILL');
      void stopEmbedded().finally(() => process.exit(1));
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    if (started.size === 0) void stopEmbedded().then(() => process.exit(exitCode));
    for (const w of started.keys()) w.process.kill('SIGTERM');
    if (exitCode !== 0) process.exitCode = exitCode;
  };
  process.on('SIGTERM', () => shutdown());
  process.on('SIGINT', () => shutdown());

  for (let i = 0; i < workers; i++) fork();
  logger.log(`primary ${process.pid}: ${workers} workers on port ${config.port}`);
}
