import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { AdminOrdersController } from './admin-orders.controller';
import { AdminOrdersRepository } from './admin-orders.repository';
import { ProcessRefundsJob } from './process-refunds.job';
import { Refund } from './refund.entity';
import { RefundsController } from './refunds.controller';
import { RefundsRepository } from './refunds.repository';
import { RefundsService } from './refunds.service';

/** Refunds (owns the refunds table), the support API, the handling of refund notifications, and the job that finishes refunds. */
@Module({
  imports: [TypeOrmModule.forFeature([Refund]), PaymentsModule, OrdersModule],
  controllers: [RefundsController, AdminOrdersController],
  providers: [RefundsRepository, RefundsService, AdminOrdersRepository, ProcessRefundsJob],
  exports: [RefundsService, ProcessRefundsJob],
})
export class RefundsModule {}
