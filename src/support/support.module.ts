import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PaymentsModule } from '../payments/payments.module';
import { RefundsModule } from '../refunds/refunds.module';
import { AdminOrdersController } from './admin-orders.controller';
import { ConsoleReadController } from './console-read.controller';
import { ConsoleReadRepository } from './console-read.repository';
import { ConsoleReadService } from './console-read.service';

/**
 * Support's read model: everything about an order in one answer (the order, its attempts, its
 * grant and periods, its refunds, its events), read across the tables of orders, payments,
 * membership and the outbox; and the support console's reads (search by any number, an order's
 * story with its reconciliation items and admin actions, a member, the audit log, the day's books
 * as CSV). It sits above every module it reads, writes no table but the audit entry of an export,
 * and nothing imports it.
 */
@Module({
  imports: [RefundsModule, AuditModule, PaymentsModule],
  controllers: [AdminOrdersController, ConsoleReadController],
  providers: [ConsoleReadRepository, ConsoleReadService],
})
export class SupportModule {}
