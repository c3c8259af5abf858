import { Module } from '@nestjs/common';
import { OrdersModule } from '../orders/orders.module';
import { MissedEventsRepository } from './missed-events.repository';
import { NotificationsGateway } from './notifications.gateway';
import { OrderEventsListener } from './order-events.listener';
import { OutboxRelay } from './outbox-relay';

/** Order events to their owners over socket.io; payments and orders never import it. */
@Module({
  imports: [OrdersModule],
  providers: [NotificationsGateway, OrderEventsListener, MissedEventsRepository, OutboxRelay],
})
export class NotificationsModule {}
