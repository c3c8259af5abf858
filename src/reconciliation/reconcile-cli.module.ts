import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../common/rate-limit/rate-limit.module';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PaidOrdersModule } from '../orders/paid-orders.module';
import { ReconciliationModule } from './reconciliation.module';

/** What `npm run reconcile` needs of the service: configuration, the database, the providers and settlement. */
@Module({})
export class ReconcileCliModule {
  static async forRoot(env: Record<string, string | undefined>): Promise<DynamicModule> {
    return {
      module: ReconcileCliModule,
      // The global modules the feature modules lean on (tokens, rate limits, metrics), without
      // the HTTP server, the WebSocket gateway or the schedules.
      imports: [
        await AppConfigModule.forRoot({ env }),
        DatabaseModule,
        EventEmitterModule.forRoot(),
        AuthModule,
        RateLimitModule,
        MetricsModule,
        PaidOrdersModule,
        ReconciliationModule,
      ],
    };
  }
}
