import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { AttemptClaimsRepository } from './attempt-claims.repository';
import { ExpireOrdersJob } from './expire-orders.job';
import { ExpireQrCodesJob } from './expire-qr-codes.job';
import { QueryPaymentsJob } from './query-payments.job';
import { SchedulingCron } from './scheduling.cron';

/** Order expiry, QR expiry and the active query: plain jobs, and the schedule that runs them. */
@Module({
  imports: [ScheduleModule.forRoot(), PaymentsModule, OrdersModule],
  providers: [AttemptClaimsRepository, ExpireOrdersJob, ExpireQrCodesJob, QueryPaymentsJob, SchedulingCron],
  exports: [ExpireOrdersJob, ExpireQrCodesJob, QueryPaymentsJob],
})
export class SchedulingModule {}
