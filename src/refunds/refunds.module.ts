import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { ProcessRefundsJob } from './process-refunds.job';
import { Refund } from './refund.entity';
import { RefundsController } from './refunds.controller';
import { RefundsRepository } from './refunds.repository';
import { RefundsService } from './refunds.service';

/** Refunds (owns the refunds table), support's refund API, the handling of refund notifications, and the job that finishes refunds. */
@Module({
  imports: [TypeOrmModule.forFeature([Refund]), PaymentsModule, OrdersModule],
  controllers: [RefundsController],
  providers: [RefundsRepository, RefundsService, ProcessRefundsJob],
  exports: [RefundsService, ProcessRefundsJob],
})
export class RefundsModule {}
