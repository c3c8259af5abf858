import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { SnakeNamingStrategy } from './snake-naming.strategy';

/**
 * The same options for the service, the CLI and the tests, whichever PostgreSQL is behind the URL.
 * No entities: each feature module registers its own (TypeOrmModule.forFeature, gathered by the
 * service's autoLoadEntities), so this wiring never imports feature code. A data source built from
 * these options alone runs and reverts migrations, which are plain SQL and need no entity.
 */
export function typeormOptions(url: string, extra: { poolSize?: number } = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    poolSize: extra.poolSize ?? 20,
    extra: { connectionTimeoutMillis: 5000, application_name: 'memberpay' },
    logging: ['error'],
  };
}
