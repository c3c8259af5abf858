import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipModule } from '../membership/membership.module';
import { OrdersModule } from '../orders/orders.module';
import { PaymentsModule } from '../payments/payments.module';
import { Contract } from './contract.entity';
import { RenewalCycle } from './renewal-cycle.entity';
import { ContractsRepository } from './contracts.repository';
import { SubscriptionsAdminController } from './subscriptions-admin.controller';
import { SubscriptionsController } from './subscriptions.controller';
import { RenewalJob } from './renewal.job';
import { RenewalsRepository } from './renewals.repository';
import { RenewalsService } from './renewals.service';
import { SubscriptionsService } from './subscriptions.service';

/** Auto-renewal by contract (owns the contracts table), above orders and payments. */
@Module({
  imports: [TypeOrmModule.forFeature([Contract, RenewalCycle]), PaymentsModule, OrdersModule, MembershipModule],
  controllers: [SubscriptionsController, SubscriptionsAdminController],
  providers: [ContractsRepository, SubscriptionsService, RenewalsRepository, RenewalsService, RenewalJob],
  exports: [SubscriptionsService, RenewalsService, RenewalJob],
})
export class SubscriptionsModule {}
