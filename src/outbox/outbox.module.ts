import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MissedEventsRepository } from './missed-events.repository';
import { OrderEvent } from './order-event.entity';
import { OutboxRepository } from './outbox.repository';

/**
 * The transactional outbox (order_events): orders, payments and refunds append to it inside the
 * transactions that make the changes (appendOrderEvent); notifications reads it to deliver them.
 * It knows nothing of either side.
 */
@Module({
  imports: [TypeOrmModule.forFeature([OrderEvent])],
  providers: [OutboxRepository, MissedEventsRepository],
  exports: [OutboxRepository, MissedEventsRepository],
})
export class OutboxModule {}
