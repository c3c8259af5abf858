import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaymentsModule } from '../payments/payments.module';
import { Contract } from './contract.entity';
import { ContractsRepository } from './contracts.repository';
import { SubscriptionsAdminController } from './subscriptions-admin.controller';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';

/** Auto-renewal by contract (owns the contracts table), above orders and payments. */
@Module({
  imports: [TypeOrmModule.forFeature([Contract]), PaymentsModule],
  controllers: [SubscriptionsController, SubscriptionsAdminController],
  providers: [ContractsRepository, SubscriptionsService],
  exports: [SubscriptionsService],
})
export class SubscriptionsModule {}
