import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { ReconciliationModule } from '../reconciliation/reconciliation.module';
import { RefundsModule } from '../refunds/refunds.module';
import { ExpireOrdersJob } from './expire-orders.job';
import { ExpireQrCodesJob } from './expire-qr-codes.job';
import { QueryPaymentsJob } from './query-payments.job';
import { ReconcileBillsJob } from './reconcile-bills.job';
import { SchedulingCron } from './scheduling.cron';

/** Order expiry, QR expiry and the active query: plain jobs, and the schedule that runs them. */
@Module({
  imports: [ScheduleModule.forRoot(), PaymentsModule, OrdersModule, RefundsModule, ReconciliationModule],
  providers: [ExpireOrdersJob, ExpireQrCodesJob, QueryPaymentsJob, ReconcileBillsJob, SchedulingCron],
  exports: [ExpireOrdersJob, ExpireQrCodesJob, QueryPaymentsJob, ReconcileBillsJob],
})
export class SchedulingModule {}
