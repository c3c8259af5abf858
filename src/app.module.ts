import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AuthModule } from './auth/auth.module';
import { CheckoutModule } from './checkout/checkout.module';
import { ConsoleModule } from './console/console.module';
import { LoggingModule } from './common/logging/logging.module';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { AppConfigModule, ConfigOptions } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MembershipModule } from './membership/membership.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OrdersModule } from './orders/orders.module';
import { PaidOrdersModule } from './orders/paid-orders.module';
import { PaymentsModule } from './payments/payments.module';
import { ReconciliationModule } from './reconciliation/reconciliation.module';
import { RefundsModule } from './refunds/refunds.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { SubscriptionPortsModule } from './subscriptions/subscription-ports.module';
import { SchedulingModule } from './scheduling/scheduling.module';
import { SupportModule } from './support/support.module';

@Module({})
export class AppModule {
  static async forRoot(options: ConfigOptions = {}): Promise<DynamicModule> {
    return {
      module: AppModule,
      imports: [
        await AppConfigModule.forRoot(options),
        LoggingModule,
        DatabaseModule,
        EventEmitterModule.forRoot(),
        AuthModule,
        RateLimitModule,
        HealthModule,
        MetricsModule,
        MembershipModule,
        PaymentsModule,
        OrdersModule,
        PaidOrdersModule,
        SubscriptionPortsModule,
        NotificationsModule,
        RefundsModule,
        SupportModule,
        SubscriptionsModule,
        SchedulingModule,
        ReconciliationModule,
        CheckoutModule,
        ConsoleModule,
      ],
    };
  }
}
