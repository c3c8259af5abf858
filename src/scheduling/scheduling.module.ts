import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { RefundsModule } from '../refunds/refunds.module';
import { AttemptClaimsRepository } from './attempt-claims.repository';
import { ExpireOrdersJob } from './expire-orders.job';
import { ExpireQrCodesJob } from './expire-qr-codes.job';
import { ReconcilePaymentsJob } from './reconcile-payments.job';
import { SchedulingCron } from './scheduling.cron';

/** Order expiry, QR expiry and the active query: plain jobs, and the schedule that runs them. */
@Module({
  imports: [ScheduleModule.forRoot(), PaymentsModule, OrdersModule, RefundsModule],
  providers: [AttemptClaimsRepository, ExpireOrdersJob, ExpireQrCodesJob, ReconcilePaymentsJob, SchedulingCron],
  exports: [ExpireOrdersJob, ExpireQrCodesJob, ReconcilePaymentsJob],
})
export class SchedulingModule {}
