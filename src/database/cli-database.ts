import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { EmbeddedPostgresHandle, runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { typeormOptions } from './typeorm-options';

/**
 * The database of a one-shot command (`npm run reconcile`, `npm run renewals`): DATABASE_URL when set;
 * otherwise the embedded PostgreSQL under DATA_DIR — the one the running service started when it runs
 * (never a second server over its data directory), or one started for this command (migrated, as the
 * service would at its start), which the caller stops after it (`started`).
 */
export async function cliDatabase(
  config: AppConfig,
  out: (line: string) => void,
): Promise<{ url: string; started?: EmbeddedPostgresHandle }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const running = runningEmbeddedPostgres(config.dataDir);
  if (running) {
    out(`Using the embedded PostgreSQL the running service started (pid ${running.pid}).`);
    return { url: running.url };
  }
  const started = await startEmbeddedPostgres(config.dataDir, () => undefined);
  const ds = await new DataSource(typeormOptions(started.url, { poolSize: 1 })).initialize();
  try {
    await ds.runMigrations();
  } finally {
    await ds.destroy();
  }
  out('Started the embedded PostgreSQL for this command (no service runs on this DATA_DIR).');
  return { url: started.url, started };
}
