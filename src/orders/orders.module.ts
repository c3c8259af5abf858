import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MembershipModule } from '../membership/membership.module';
import { PaymentsModule } from '../payments/payments.module';
import { IdempotencyKey } from './idempotency-key.entity';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';
import { IdempotencyService } from './idempotency.service';
import { Order } from './order.entity';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

@Module({
  imports: [TypeOrmModule.forFeature([Order, IdempotencyKey]), MembershipModule, PaymentsModule],
  controllers: [OrdersController],
  providers: [OrdersService, OrdersRepository, IdempotencyService, IdempotencyKeysRepository],
  exports: [OrdersService, OrdersRepository, IdempotencyService],
})
export class OrdersModule {}
