import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { CommittedOrderEvent, ORDER_EVENTS_COMMITTED } from '../outbox/order-events';
import { OutboxRepository } from '../outbox/outbox.repository';
import { NotificationsGateway } from './notifications.gateway';

/**
 * Pushes outbox rows once their transaction has committed, then marks them announced. A push that
 * never happens (the instance died after its commit) is made by the OutboxRelay of any instance;
 * and the row stays in order_events for a client reconnecting with its lastEventId.
 */
/**
 * Announced ids are marked in one statement per this interval rather than one per settlement: a
 * write (and its WAL flush) per event was a second commit on every payment. Far below the relay's
 * RELAY_AFTER_MS, so the relay still leaves announced rows alone.
 */
export const MARK_PUBLISHED_EVERY_MS = 100;

@Injectable()
export class OrderEventsListener implements OnApplicationShutdown {
  private readonly logger = new Logger('Notifications');
  private announced: string[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly gateway: NotificationsGateway,
    private readonly outbox: OutboxRepository,
  ) {}

  @OnEvent(ORDER_EVENTS_COMMITTED)
  push(events: CommittedOrderEvent[]): void {
    try {
      this.gateway.publish(events);
    } catch (e) {
      this.logger.error(`pushing events ${events.map((e) => e.id).join(',')} failed: ${(e as Error).message}`);
      return; // left unannounced: the relay pushes them shortly
    }
    // Announced: the relay leaves them alone once marked.
    for (const e of events) this.announced.push(e.id);
    this.timer ??= setTimeout(() => void this.markAnnounced(), MARK_PUBLISHED_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    clearTimeout(this.timer);
    await this.markAnnounced();
  }

  /** A failure here only means a push twice (clients drop an id already seen). */
  private async markAnnounced(): Promise<void> {
    this.timer = undefined;
    const ids = this.announced;
    if (!ids.length) return;
    this.announced = [];
    await this.outbox.markPublished(ids).catch((e) => {
      this.logger.warn(`marking ${ids.length} pushed event(s) failed (${(e as Error).message}); the relay may push them again`);
    });
  }
}
