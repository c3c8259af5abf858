import { Global, Module } from '@nestjs/common';
import { MembershipModule } from '../membership/membership.module';
import { PaidOrders } from '../payments/paid-orders';
import { OrderFulfilment } from './order-fulfilment.service';
import { OrderFulfilmentRepository } from './order-fulfilment.repository';
import { OrderRefundsRepository } from './order-refunds.repository';

/**
 * Orders' fulfilment, provided to payments as PaidOrders. Global, because payments sits below orders
 * (orders imports payments), so payments cannot import an orders module to reach it.
 */
@Global()
@Module({
  imports: [MembershipModule],
  providers: [OrderFulfilment, OrderFulfilmentRepository, OrderRefundsRepository, { provide: PaidOrders, useExisting: OrderFulfilment }],
  exports: [PaidOrders, OrderFulfilment, OrderRefundsRepository],
})
export class PaidOrdersModule {}
