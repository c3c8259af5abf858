import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadAppConfig } from './config/config.module';
import { typeormOptions } from './database/typeorm-options';

/**
 * The data source of the TypeORM CLI (`npm run migration:*`, and `migration:run` in the image): ops
 * run migrations against DATABASE_URL. The embedded database applies its migrations itself at start.
 *
 * It lives at the top of src/, beside app.module.ts, because like that module it is a composition
 * root: the drift check (`migration:generate --check`) compares the migrations with every entity of
 * every feature, which database/ (the wiring the features build on) must not import, and which the
 * migrations (frozen SQL) must not depend on. The entities are found by their file name rather than
 * listed: the service registers each from its own module, and a list kept here as well could miss a
 * new one without anything failing, leaving its table outside the drift check.
 */
const config = loadAppConfig();
if (!config.databaseUrl) {
  process.stderr.write('DATABASE_URL is not set: the migration commands run against an external PostgreSQL.\n');
  process.exit(1);
}

export default new DataSource({
  ...typeormOptions(config.databaseUrl),
  // *.ts under ts-node (npm run migration:*), *.js in the build (dist/src/data-source.js).
  entities: [join(__dirname, '**', '*.entity.{ts,js}')],
});
