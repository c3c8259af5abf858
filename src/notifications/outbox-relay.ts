import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { OutboxRepository } from '../outbox/outbox.repository';
import { NotificationsGateway } from './notifications.gateway';
import { WebhookDispatcher } from './webhooks/webhook-dispatcher';

/** An event not announced this long after its commit is taken to be orphaned by a dead instance. */
export const RELAY_AFTER_MS = 3_000;
const RELAY_EVERY_MS = 1_000;
const RELAY_BATCH = 200;

/**
 * Pushes outbox rows that nobody announced: an instance died between its commit and its push, or a
 * command appended them (`npm run renewals` has no sockets to push to), so connected clients get
 * them without reconnecting. Every instance runs
 * it; the database claim decides which one pushes a row, and clients drop an id already seen.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private failing = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly gateway: NotificationsGateway,
    private readonly metrics: MetricsService,
    private readonly webhooks: WebhookDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      // The webhooks' deliveries run on the same beat: rows committed by other instances (or by one
      // that died before waking its own) and retries falling due. Their pass never waits on a receiver.
      this.webhooks.wake();
      this.running ??= this.relay().finally(() => {
        this.running = undefined;
      });
    }, RELAY_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass: claims and pushes what is overdue; never throws. */
  async relay(): Promise<number> {
    try {
      let total = 0;
      for (;;) {
        const events = await this.outbox.claimUnannounced(RELAY_AFTER_MS, RELAY_BATCH);
        if (!events.length) break;
        this.gateway.publish(events);
        this.metrics.outboxRelayed.inc(events.length);
        total += events.length;
        this.logger.warn(
          `relayed ${events.length} event(s) committed but not pushed within ${RELAY_AFTER_MS / 1000} s, by an instance that died or by a command such as npm run renewals (last id ${events[events.length - 1].id})`,
        );
        if (events.length < RELAY_BATCH) break;
      }
      if (this.failing) this.logger.log('the outbox relay works again');
      this.failing = false;
      return total;
    } catch (e) {
      if (!this.failing) this.logger.error(`the outbox relay failed (${(e as Error).message}); retried every second`);
      this.failing = true;
      return 0;
    }
  }
}
