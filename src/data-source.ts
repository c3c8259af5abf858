import { join, resolve } from 'node:path';
import { DataSource } from 'typeorm';
import { redactUrl } from './common/redact-url';
import { readEnvironment } from './config/config.module';
import { checkDatabaseUrl, findService, ServiceSetupError } from './config/service-setup';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { typeormOptions } from './database/typeorm-options';

/**
 * The data source of the TypeORM CLI (`npm run migration:*`, and `migration:run` in the image).
 * It needs the database and nothing else (no JWT or provider settings): DATABASE_URL when set;
 * otherwise the embedded PostgreSQL of `npm start` under DATA_DIR (the running service's, found as
 * src/config/service-setup.ts says) — the server that service runs, or, when none runs, one started
 * for this command and stopped when it exits.
 *
 * It lives at the top of src/, beside app.module.ts, because like that module it is a composition
 * root: the drift check (`migration:generate --check`) compares the migrations with every entity of
 * every feature, which database/ (the wiring the features build on) must not import, and which the
 * migrations (frozen SQL) must not depend on. The entities are found by their file name rather than
 * listed: the service registers each from its own module, and a list kept here as well could miss a
 * new one without anything failing, leaving its table outside the drift check.
 */
async function databaseUrl(): Promise<string> {
  const found = findService(readEnvironment());
  checkDatabaseUrl(found);
  const url = found.env.DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\/\S+$/.test(url))
      throw new ServiceSetupError(`DATABASE_URL must be a postgres:// URL (it is ${redactUrl(url)})`);
    return url;
  }
  const dataDir = resolve(found.env.DATA_DIR ?? './data');
  const running = runningEmbeddedPostgres(dataDir);
  if (running) {
    process.stderr.write(`Using the embedded PostgreSQL of DATA_DIR=${dataDir} (pid ${running.pid}).\n`);
    return running.url;
  }
  // Stopped by the exit hook startEmbeddedPostgres installs, once the CLI is done.
  const started = await startEmbeddedPostgres(dataDir, () => undefined);
  process.stderr.write(
    `Started the embedded PostgreSQL of DATA_DIR=${dataDir} for this command (no service runs on it; set DATABASE_URL for another database).\n`,
  );
  return started.url;
}

async function dataSource(): Promise<DataSource> {
  let url: string;
  try {
    url = await databaseUrl();
  } catch (e) {
    // The CLI would report any failure here as "Unable to open file … data-source.ts".
    process.stderr.write(`${e instanceof ServiceSetupError ? '' : 'the database cannot be opened: '}${(e as Error).message}\n`);
    process.exit(1);
  }
  return new DataSource({
    ...typeormOptions(url),
    // *.ts under ts-node (npm run migration:*), *.js in the build (dist/src/data-source.js).
    entities: [join(__dirname, '**', '*.entity.{ts,js}')],
  });
}

export default dataSource();
