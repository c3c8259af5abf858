import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppConfig } from '../config/app-config';
import { EmbeddedPostgresHandle, startEmbeddedPostgres } from './embedded-postgres';
import { typeormOptions } from './typeorm-options';

const DATABASE_TARGET = Symbol('DATABASE_TARGET');

interface DatabaseTarget {
  url: string;
  embedded?: EmbeddedPostgresHandle;
}

/**
 * The one place that chooses the database: DATABASE_URL when set, otherwise an embedded
 * PostgreSQL under DATA_DIR that this service starts, migrates and stops.
 */
@Module({
  providers: [
    {
      provide: DATABASE_TARGET,
      inject: [AppConfig],
      useFactory: async (config: AppConfig): Promise<DatabaseTarget> => {
        if (config.databaseUrl) return { url: config.databaseUrl };
        const logger = new Logger('EmbeddedPostgres');
        const embedded = await startEmbeddedPostgres(config.dataDir, (line) => logger.log(line));
        return { url: embedded.url, embedded };
      },
    },
  ],
  exports: [DATABASE_TARGET],
})
class DatabaseTargetModule {}

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(DATABASE_TARGET) private readonly target: DatabaseTarget,
    private readonly dataSource: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    // The pool must close before the embedded server stops, whatever order Nest runs hooks in.
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.target.embedded?.stop();
  }
}

/**
 * A pooled connection that PostgreSQL ends (a restart, pg_terminate_backend) emits 'error' on its
 * client. node-postgres's pool listens on idle clients only; a client checked out by a query runner
 * between two statements has no listener, and an unhandled 'error' ends the process. Listening on
 * every client turns that into a failed statement for the one transaction that held it (answered so
 * the sender retries). Clients made before this runs (the one initialize() opened) are reached
 * through the pool's list of its clients.
 */
function listenForConnectionErrors(dataSource: DataSource): void {
  const logger = new Logger('Database');
  const pool = (dataSource.driver as PostgresDriver).master as Pool & { _clients?: PoolClient[] };
  const listen = (client: PoolClient) => {
    if ((client as PoolClient & { memberpayListens?: boolean }).memberpayListens) return;
    (client as PoolClient & { memberpayListens?: boolean }).memberpayListens = true;
    client.on('error', (e: Error) => logger.warn(`a database connection ended: ${e.message}`));
  };
  pool.on('connect', listen);
  for (const client of pool._clients ?? []) listen(client);
}

@Global()
@Module({
  imports: [
    DatabaseTargetModule,
    TypeOrmModule.forRootAsync({
      imports: [DatabaseTargetModule],
      inject: [DATABASE_TARGET],
      useFactory: (target: DatabaseTarget) => ({
        ...typeormOptions(target.url),
        // The entities are those the feature modules register (TypeOrmModule.forFeature).
        autoLoadEntities: true,
        // Embedded: nobody else can migrate it, so the service does. External: ops run
        // `npm run migration:run`; the service refuses to start on a schema behind its code.
        migrationsRun: !!target.embedded,
      }),
      dataSourceFactory: async (options) => {
        const dataSource = await new DataSource(options!).initialize();
        listenForConnectionErrors(dataSource);
        const pending = await dataSource.showMigrations();
        if (pending) {
          await dataSource.destroy();
          throw new Error('The database has pending migrations: run `npm run migration:run` against DATABASE_URL first');
        }
        return dataSource;
      },
    }),
  ],
  providers: [DatabaseLifecycle],
})
export class DatabaseModule {}
