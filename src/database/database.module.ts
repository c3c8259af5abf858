import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
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
