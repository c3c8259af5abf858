import { Global, Module } from '@nestjs/common';
import { AutoRenewals } from '../membership/auto-renewals';
import { OrderContracts } from '../orders/order-contracts';
import { PaymentsModule } from '../payments/payments.module';
import { ContractsRepository } from './contracts.repository';
import { SubscriptionPorts } from './subscription-ports';

/**
 * Contracts as orders and membership reach them (their ports OrderContracts and AutoRenewals).
 * Global, because both sit below subscriptions and cannot import a subscriptions module.
 */
@Global()
@Module({
  imports: [PaymentsModule],
  providers: [
    ContractsRepository,
    SubscriptionPorts,
    { provide: OrderContracts, useExisting: SubscriptionPorts },
    { provide: AutoRenewals, useExisting: SubscriptionPorts },
  ],
  exports: [OrderContracts, AutoRenewals],
})
export class SubscriptionPortsModule {}
