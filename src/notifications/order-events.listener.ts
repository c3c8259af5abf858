import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CommittedOrderEvent, ORDER_EVENTS_COMMITTED } from '../orders/order-events';
import { OutboxRepository } from '../orders/outbox.repository';
import { NotificationsGateway } from './notifications.gateway';

/**
 * Pushes outbox rows once their transaction has committed, then marks them announced. A push that
 * never happens (the instance died after its commit) is made by the OutboxRelay of any instance;
 * and the row stays in order_events for a client reconnecting with its lastEventId.
 */
@Injectable()
export class OrderEventsListener {
  private readonly logger = new Logger('Notifications');

  constructor(private readonly gateway: NotificationsGateway, private readonly outbox: OutboxRepository) {}

  @OnEvent(ORDER_EVENTS_COMMITTED)
  push(events: CommittedOrderEvent[]): void {
    try {
      this.gateway.publish(events);
    } catch (e) {
      this.logger.error(`pushing events ${events.map((e) => e.id).join(',')} failed: ${(e as Error).message}`);
      return; // left unannounced: the relay pushes them shortly
    }
    // Announced: the relay leaves them alone. A failure here only means a push twice (ids de-duplicate).
    this.outbox.markPublished(events.map((e) => e.id)).catch((e) => {
      this.logger.warn(`marking events ${events.map((ev) => ev.id).join(',')} pushed failed (${(e as Error).message}); the relay may push them again`);
    });
  }
}
