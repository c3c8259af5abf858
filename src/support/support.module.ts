import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { PaymentsModule } from '../payments/payments.module';
import { RefundsModule } from '../refunds/refunds.module';
import { SubscriptionsModule } from '../subscriptions/subscriptions.module';
import { AdminOrdersController } from './admin-orders.controller';
import { ConsoleReadController } from './console-read.controller';
import { ConsoleReadRepository } from './console-read.repository';
import { ConsoleReadService } from './console-read.service';

/**
 * Support's read model: everything about an order in one answer (the order, its attempts, its
 * grant and periods, its refunds, its events), read across the tables of orders, payments,
 * membership and the outbox; and the support console's reads (search by any number, an order's
 * story with its reconciliation items, refused notifications and admin actions, a member with
 * their auto-renewal contract, the audit log, the day's books as CSV). Refused notifications and
 * contracts are read through their owners (payments' NotificationRefusalsRepository, the
 * subscriptions module's service). It sits above every module it reads, writes no table but the
 * audit entry of an export, and nothing imports it.
 */
@Module({
  imports: [RefundsModule, AuditModule, PaymentsModule, SubscriptionsModule],
  controllers: [AdminOrdersController, ConsoleReadController],
  providers: [ConsoleReadRepository, ConsoleReadService],
})
export class SupportModule {}
