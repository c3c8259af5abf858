import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module';
import { NotificationsGateway } from './notifications.gateway';
import { OrderEventsListener } from './order-events.listener';
import { OutboxRelay } from './outbox-relay';
import { WebhooksModule } from './webhooks/webhooks.module';

/** Order events to their owners over socket.io and to services' webhooks; payments and orders never import it. */
@Module({
  imports: [OutboxModule, WebhooksModule],
  providers: [NotificationsGateway, OrderEventsListener, OutboxRelay],
})
export class NotificationsModule {}
