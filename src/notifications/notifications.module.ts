import { Module } from '@nestjs/common';
import { MissedEventsRepository } from './missed-events.repository';
import { NotificationsGateway } from './notifications.gateway';
import { OrderEventsListener } from './order-events.listener';

/** Order events to their owners over socket.io; payments and orders never import it. */
@Module({
  providers: [NotificationsGateway, OrderEventsListener, MissedEventsRepository],
})
export class NotificationsModule {}
