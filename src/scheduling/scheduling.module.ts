import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { ReconciliationModule } from '../reconciliation/reconciliation.module';
import { RefundsModule } from '../refunds/refunds.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { SchedulingCron } from './scheduling.cron';

/**
 * The schedule, and only that: each job is a plain service of the module whose work it does
 * (orders expire orders, payments query attempts and close expired QR codes, refunds finish
 * refunds, reconciliation reconciles bills, subscriptions renew contracts), provided and exported there.
 */
@Module({
  imports: [ScheduleModule.forRoot(), PaymentsModule, OrdersModule, RefundsModule, ReconciliationModule, SubscriptionsModule],
  providers: [SchedulingCron],
})
export class SchedulingModule {}
