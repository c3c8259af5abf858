import { DataSource } from 'typeorm';
import { loadAppConfig } from '../config/config.module';
import { typeormOptions } from './typeorm-options';

/**
 * The data source of the TypeORM CLI (`npm run migration:*`): ops run migrations against
 * DATABASE_URL. The embedded database applies its migrations itself at start.
 */
const config = loadAppConfig();
if (!config.databaseUrl) {
  process.stderr.write('DATABASE_URL is not set: the migration commands run against an external PostgreSQL.\n');
  process.exit(1);
}

export default new DataSource(typeormOptions(config.databaseUrl));
