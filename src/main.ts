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
  new Logger('Bootstrap').log(`memberpay listening on port ${config.port} (${config.databaseUrl ? 'external' : 'embedded'} PostgreSQL)`);
}

void bootstrap();
