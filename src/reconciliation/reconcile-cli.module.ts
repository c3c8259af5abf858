import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ReconciliationModule } from './reconciliation.module';

/** What `npm run reconcile` needs of the service: configuration, the database, the providers and settlement. */
@Module({})
export class ReconcileCliModule {
  static async forRoot(env: Record<string, string | undefined>): Promise<DynamicModule> {
    return {
      module: ReconcileCliModule,
      imports: [await AppConfigModule.forRoot({ env }), DatabaseModule, EventEmitterModule.forRoot(), MetricsModule, ReconciliationModule],
    };
  }
}
