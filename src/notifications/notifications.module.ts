import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { NotificationsGateway } from './notifications.gateway';
import { OrderEventsListener } from './order-events.listener';
import { OutboxRelay } from './outbox-relay';

/** Order events to their owners over socket.io; payments and orders never import it. */
@Module({
  imports: [OutboxModule],
  providers: [NotificationsGateway, OrderEventsListener, OutboxRelay],
})
export class NotificationsModule {}
