import { Logger } from '@nestjs/common';
import { createApp } from './app.factory';
import { AppConfig, ConfigError } from './config/app-config';

async function bootstrap(): Promise<void> {
  let app;
  try {
    app = await createApp();
  } catch (e) {
    if (e instanceof ConfigError) {
      // One line per problem: the variable and what is wrong, never its value.
      for (const p of e.problems) process.stderr.write(`config: ${p.variable} ${p.problem}\n`);
      process.exit(1);
    }
    process.stderr.write(`memberpay failed to start: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(1);
  }
  const config = app.get(AppConfig);
  await app.listen(config.port, '0.0.0.0');
  const { port } = app.getHttpServer().address() as { port: number };
  const logger = new Logger('Bootstrap');
  logger.log(`memberpay listening on port ${port} (${config.databaseUrl ? 'external' : 'embedded'} PostgreSQL)`);

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
    app.close().then(() => process.exit(0), (e) => {
      logger.error(`Shutdown failed: ${(e as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const SHUTDOWN_TIMEOUT_MS = 25_000;

void bootstrap();
