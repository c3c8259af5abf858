import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipModule } from '../membership/membership.module';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { ProcessRefundsJob } from './process-refunds.job';
import { RefundMembership } from './refund-membership';
import { Refund } from './refund.entity';
import { RefundNotificationsController } from './refund-notifications.controller';
import { RefundsController } from './refunds.controller';
import { RefundsRepository } from './refunds.repository';
import { RefundsService } from './refunds.service';

/** Refunds (owns the refunds table), support's refund API, WeChat Pay refund notifications, and the job that finishes refunds. */
@Module({
  imports: [TypeOrmModule.forFeature([Refund]), MembershipModule, PaymentsModule, OrdersModule],
  controllers: [RefundsController, RefundNotificationsController],
  providers: [RefundsRepository, RefundsService, RefundMembership, ProcessRefundsJob],
  exports: [RefundsService, ProcessRefundsJob],
})
export class RefundsModule {}
