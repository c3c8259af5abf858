import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CommittedOrderEvent, ORDER_EVENTS_COMMITTED } from '../orders/order-events';
import { NotificationsGateway } from './notifications.gateway';

/**
 * Pushes outbox rows once their transaction has committed. A push that fails loses nothing:
 * the row stays in order_events and the client gets it when it reconnects with its lastEventId.
 */
@Injectable()
export class OrderEventsListener {
  private readonly logger = new Logger('Notifications');

  constructor(private readonly gateway: NotificationsGateway) {}

  @OnEvent(ORDER_EVENTS_COMMITTED)
  push(events: CommittedOrderEvent[]): void {
    try {
      this.gateway.publish(events);
    } catch (e) {
      this.logger.error(`pushing events ${events.map((e) => e.id).join(',')} failed: ${(e as Error).message}`);
    }
  }
}
