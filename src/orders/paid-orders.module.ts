import { Global, Module } from '@nestjs/common';
import { PaidOrders } from '../payments/paid-orders';
import { OrderPaymentsRepository } from './order-payments.repository';

/**
 * Provides PaidOrders to payments. Global, because payments sits below orders (orders imports
 * payments), so payments cannot import an orders module to reach it.
 */
@Global()
@Module({
  providers: [{ provide: PaidOrders, useClass: OrderPaymentsRepository }],
  exports: [PaidOrders],
})
export class PaidOrdersModule {}
