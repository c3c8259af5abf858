import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipModule } from '../membership/membership.module';
import { PaymentsModule } from '../payments/payments.module';
import { ExpireOrdersJob } from './expire-orders.job';
import { IdempotencyKey } from './idempotency/idempotency-key.entity';
import { IdempotencyKeysRepository } from './idempotency/idempotency-keys.repository';
import { IdempotencyService } from './idempotency/idempotency.service';
import { Order } from './order.entity';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

@Module({
  imports: [TypeOrmModule.forFeature([Order, IdempotencyKey]), MembershipModule, PaymentsModule],
  controllers: [OrdersController],
  providers: [OrdersService, OrdersRepository, IdempotencyService, IdempotencyKeysRepository, ExpireOrdersJob],
  exports: [OrdersService, OrdersRepository, IdempotencyService, ExpireOrdersJob],
})
export class OrdersModule {}
