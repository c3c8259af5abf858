import cluster from 'node:cluster';
import { Logger } from '@nestjs/common';
import type * as AppFactory from './app.factory';
import { runPrimary, workersFromArgs } from './cluster';
import type * as OpsServer from './common/http/ops-server';
import { redactUrl, redactUrlsIn } from './common/redact-url';
import { AppConfig, ConfigError } from './config/app-config';
import { loadAppConfig } from './config/config.module';

function startFailed(e: unknown): never {
  if (e instanceof ConfigError) {
    // One line per problem: the variable and what is wrong, never its value.
    for (const p of e.problems) process.stderr.write(`config: ${p.variable} ${p.problem}\n`);
    process.exit(1);
  }
  process.stderr.write(`memberpay failed to start: ${redactUrlsIn((e as Error)?.message ?? String(e))}\n`);
  process.exit(1);
}

async function bootstrap(): Promise<void> {
  if (cluster.isPrimary) {
    const workers = workersFromArgs(process.argv);
    let config: AppConfig;
    try {
      config = loadAppConfig(workers !== undefined ? { WEB_CONCURRENCY: workers } : {});
    } catch (e) {
      startFailed(e);
    }
    if (config.workers > 1) {
      await runPrimary(config, config.workers, __filename).catch(startFailed);
      return;
    }
  }
  // Loaded here, not at the top: a cluster primary serves nothing and need not load the application.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only by a process that serves
  const { createApp } = require('./app.factory') as typeof AppFactory;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only by a process that serves
  const { listenOps } = require('./common/http/ops-server') as typeof OpsServer;
  let app;
  try {
    app = await createApp();
  } catch (e) {
    startFailed(e);
  }
  const config = app.get(AppConfig);
  // Outside production the API stays on loopback unless HOST says otherwise: a development
  // service with its sandbox and generated secrets is not for the network.
  await app.listen(config.port, config.host);
  const { port, address } = app.getHttpServer().address() as { port: number; address: string };
  const logger = new Logger('Bootstrap');
  // The URLs as an operator may see them: scheme, host, port and database, never credentials.
  const database = config.databaseUrl ? `external PostgreSQL ${redactUrl(config.databaseUrl)}` : 'embedded PostgreSQL';
  logger.log(
    `memberpay listening on port ${port} at ${address} (${database}${config.redisUrl ? `, Redis ${redactUrl(config.redisUrl)}` : ''})`,
  );
  const ops = config.opsPort === undefined ? undefined : await listenOps(app, config.opsPort, config.host);
  if (ops) logger.log(`/metrics and /api/docs on port ${(ops.address() as { port: number }).port} only`);

  // Nest's enableShutdownHooks re-raises the signal after closing, so the exit status is not 0;
  // ops and orchestrators expect a clean 0 after a drained SIGTERM.
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.log(`${signal} received: draining and shutting down`);
    const force = setTimeout(() => {
      logger.error('Shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    ops?.close();
    app.close().then(
      () => process.exit(0),
      (e) => {
        logger.error(`Shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const SHUTDOWN_TIMEOUT_MS = 25_000;

void bootstrap();
