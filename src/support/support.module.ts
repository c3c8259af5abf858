import { Module } from '@nestjs/common';
import { RefundsModule } from '../refunds/refunds.module';
import { AdminOrdersController } from './admin-orders.controller';
import { AdminOrdersRepository } from './admin-orders.repository';

/**
 * Support's read model: everything about an order in one answer (the order, its attempts, its
 * grant and periods, its refunds, its events), read across the tables of orders, payments,
 * membership and the outbox. It sits above every module it reads, writes no table, and nothing
 * imports it.
 */
@Module({
  imports: [RefundsModule],
  controllers: [AdminOrdersController],
  providers: [AdminOrdersRepository],
})
export class SupportModule {}
