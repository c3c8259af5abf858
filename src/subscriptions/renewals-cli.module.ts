import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AuthModule } from '../auth/auth.module';
import { RateLimitModule } from '../common/rate-limit/rate-limit.module';
import { AppConfigModule } from '../config/config.module';
import { DatabaseModule } from '../database/database.module';
import { MetricsModule } from '../metrics/metrics.module';
import { PaidOrdersModule } from '../orders/paid-orders.module';
import { SubscriptionsModule } from './subscriptions.module';

/**
 * What `npm run renewals` needs of the service: configuration, the database, the contract adapters and
 * settlement, without the HTTP server, the WebSocket gateway or the schedules. Events it appends reach the
 * members through the running service's outbox relay; a double payment it finds is refunded by the
 * service's refund job.
 */
@Module({})
export class RenewalsCliModule {
  static async forRoot(env: Record<string, string | undefined>): Promise<DynamicModule> {
    return {
      module: RenewalsCliModule,
      imports: [
        await AppConfigModule.forRoot({ env }),
        DatabaseModule,
        EventEmitterModule.forRoot(),
        AuthModule,
        RateLimitModule,
        MetricsModule,
        PaidOrdersModule,
        SubscriptionsModule,
      ],
    };
  }
}
