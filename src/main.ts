import cluster from 'node:cluster';
import type { Server as HttpServer } from 'node:http';
import { Logger } from '@nestjs/common';
import type * as AppFactory from './app.factory';
import { runPrimary, workersFromArgs } from './cluster';
import type * as OpsServer from './common/http/ops-server';
import { redactUrl, redactUrlsIn } from './common/redact-url';
import { AppConfig, ConfigError } from './config/app-config';
import { loadAppConfig } from './config/config.module';
import { launchOf, secretFingerprint, writeServiceSetup } from './config/service-setup';

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
  const opsPort = ops ? (ops.address() as { port: number }).port : undefined;
  if (ops) logger.log(`/metrics and /api/docs on port ${opsPort} only`);
  else if (config.isProduction) {
    logger.warn('OPS_PORT is not set: /metrics and /api/docs are served on the public API port; set OPS_PORT to keep them off it');
  }
  // `npm start` only: a service started otherwise (tests, start:prod) leaves the tools' setup alone.
  if (!config.isProduction && launchOf().startedByNpmStart) announceDevelopmentService(config, port, opsPort, logger);

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
    // A connection still busy after the grace (a socket.io client that keeps reconnecting by
    // long-polling, a stalled upload) would hold the HTTP server's close until the forced exit above;
    // it is cut instead, so a drained service still exits with 0.
    const cut = setTimeout(() => (app.getHttpServer() as HttpServer).closeAllConnections(), SHUTDOWN_GRACE_MS);
    cut.unref();
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
/** How long requests in flight may take to finish before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Development: records the setup the tools need (src/config/service-setup.ts) and says, once the
 * service answers, where to go and how to get a token.
 */
function announceDevelopmentService(config: AppConfig, port: number, opsPort: number | undefined, logger: Logger): void {
  const { sandboxUrl, jwtSecretFrom } = launchOf();
  writeServiceSetup({
    pid: process.pid,
    dataDir: config.dataDir,
    host: config.host,
    port,
    ...(opsPort !== undefined ? { opsPort } : {}),
    ...(sandboxUrl ? { sandboxUrl, sandboxPort: Number(new URL(sandboxUrl).port) } : {}),
    database: config.databaseUrl ? { kind: 'external', url: redactUrl(config.databaseUrl) } : { kind: 'embedded' },
    jwt: {
      secret: jwtSecretFrom,
      fingerprint: secretFingerprint(config.jwtSecret),
      ...(config.jwtIssuer ? { issuer: config.jwtIssuer } : {}),
      ...(config.jwtAudience ? { audience: config.jwtAudience } : {}),
    },
    startedAt: new Date().toISOString(),
  });
  const shown =
    config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const api = `http://${shown}:${port}`;
  const lines = [
    'Ready. Open:',
    `  checkout page     ${api}/`,
    `  API docs          http://${shown}:${opsPort ?? port}/api/docs`,
    ...(sandboxUrl ? [`  provider sandbox  ${sandboxUrl}/sandbox/pay?qr=<qr_code_url>`] : []),
    `A token for user 7 (--admin for support staff):  npm run -s token -- 7`,
    `  (the tools find this service's setup in ${config.dataDir}/service.json; with several services running, prefix DATA_DIR=${config.dataDir})`,
  ];
  for (const line of lines) logger.log(line);
}

void bootstrap();
