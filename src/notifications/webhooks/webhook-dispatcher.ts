import { Injectable, Logger, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { Counter, Gauge } from 'prom-client';
import { DataSource } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { AutoRenewals } from '../../membership/auto-renewals';
import type { MembershipSnapshot } from '../../membership/membership.views';
import { MetricsService } from '../../metrics/metrics.service';
import { ORDER_EVENTS_COMMITTED } from '../../outbox/order-events';
import { OutboxRepository } from '../../outbox/outbox.repository';
import { webhookEventsOf } from './webhook-event-types';
import { retryDelayMs, retryWindowMs } from './webhook-schedule';
import { WebhookSender } from './webhook-sender';
import { signatureHeader } from './webhook-signature';
import { WebhookUrlPolicy } from './webhook-url-policy';
import { AttemptOutcome, ClaimedDelivery, NewDelivery, WebhooksRepository } from './webhooks.repository';

/** Outbox rows handed over per transaction. */
const FAN_OUT_BATCH = 500;
/** Attempts on this instance, in all (until recorded) and per endpoint (until answered): a dead receiver holds at most its own share. */
const MAX_IN_FLIGHT = 64;
const MAX_IN_FLIGHT_PER_ENDPOINT = 8;
/** The longest the pump sleeps when nothing wakes it (the outbox relay also wakes it every second). */
const IDLE_WAKE_MS = 1_000;
/**
 * At shutdown, attempts running get this long to finish; then they are cut off unrecorded, and
 * their claims' leases hand them to another instance (a receiver may see them twice: it dedupes).
 */
const SHUTDOWN_GRACE_MS = 5_000;
/** How often the oldest pending event per endpoint is read for the metric. */
const OLDEST_READ_MS = 30_000;
/**
 * The two int4 advisory-lock keys that serialise the hand-over of outbox rows to the webhooks across
 * instances (the two-key space never meets appendOrderEvent's one-key member locks: docs/webhooks.md#advisory-locks).
 */
const FAN_OUT_LOCK = [0x77686b, 1] as const;

/**
 * Service webhooks, driven from the outbox: hands committed outbox rows over as one delivery per
 * subscribed endpoint (once, in one transaction with marking the rows), then posts the due
 * deliveries, each signed, without waiting for one receiver before trying another. Woken when this
 * instance commits events, when an attempt ends, at the next retry due, and every second by the
 * outbox relay (rows committed by other instances, or by one that died before waking anybody).
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Webhooks');
  readonly policy: WebhookUrlPolicy;
  private readonly sender: WebhookSender;
  private readonly inFlight = new Map<string, number>();
  private readonly running = new Set<Promise<unknown>>();
  private pumping?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private oldestTimer?: NodeJS.Timeout;
  private oldest: Awaited<ReturnType<WebhooksRepository['oldestPending']>> = [];
  private stopped = false;
  private failing = false;
  private abandoned = false;
  /** Outbox rows may be waiting: set by a commit here, the relay's beat and the idle timer, not by an attempt ending. */
  private fanOutDue = true;
  private outcomes?: Counter<'outcome'>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly repo: WebhooksRepository,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    @Optional() private readonly autoRenewals?: AutoRenewals,
  ) {
    this.policy = new WebhookUrlPolicy(config.isProduction);
    this.sender = new WebhookSender(this.policy, config.webhookTimeoutMs);
  }

  onModuleInit(): void {
    const registry = this.metrics.registry;
    if (registry.getSingleMetric('memberpay_webhook_deliveries_total')) return;
    this.outcomes = new Counter({
      name: 'memberpay_webhook_deliveries_total',
      help: 'Webhook attempts, by outcome: delivered (2xx), retry (failed, tried again later), failed (failed for the whole retry window)',
      labelNames: ['outcome'],
      registers: [registry],
    });
    // A scrape answers from memory (Prometheus takes a slow or refused scrape for a target that is
    // down, and it must not wait on the database): the oldest pending events are read every 30 s.
    const oldest = () => this.oldest;
    new Gauge({
      name: 'memberpay_webhook_oldest_pending_seconds',
      help: 'Age of the oldest event not yet delivered, per webhook endpoint (read from the database every 30 s)',
      labelNames: ['endpoint'],
      registers: [registry],
      collect() {
        const now = Date.now();
        this.reset();
        for (const r of oldest()) this.set({ endpoint: r.endpoint_id }, (now - r.oldest.getTime()) / 1000);
      },
    });
    void this.readOldest();
    this.oldestTimer = setInterval(() => void this.readOldest(), OLDEST_READ_MS);
    this.oldestTimer.unref();
  }

  private async readOldest(): Promise<void> {
    try {
      this.oldest = await this.repo.oldestPending();
    } catch {
      // the database is down: the last values stay until the next read
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.oldestTimer);
    clearTimeout(this.timer);
    await this.pumping;
    let grace: NodeJS.Timeout | undefined;
    const finished = Promise.allSettled([...this.running]);
    await Promise.race([finished, new Promise((resolve) => (grace = setTimeout(resolve, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(grace);
    this.abandoned = true;
    this.sender.close();
    await finished;
  }

  @OnEvent(ORDER_EVENTS_COMMITTED)
  onCommitted(): void {
    this.wake();
  }

  /**
   * Runs a pass soon; passes never overlap on one instance, and a wake during one runs another after
   * it. `outbox: false` (an attempt ended) skips the hand-over of outbox rows in that pass.
   */
  wake(outbox = true): void {
    if (this.stopped) return;
    if (outbox) this.fanOutDue = true;
    if (this.pumping) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pumping = this.pump().finally(() => {
      this.pumping = undefined;
      if (this.again) {
        this.again = false;
        this.wake(false);
      }
    });
  }

  /** Test hook and the relay's: one pass, awaited. */
  async pass(): Promise<void> {
    this.wake();
    await this.pumping;
  }

  private async pump(): Promise<void> {
    try {
      if (this.fanOutDue) {
        this.fanOutDue = false;
        while (!this.stopped && (await this.fanOut()) === FAN_OUT_BATCH);
      }
      await this.claimAndSend();
      const next = this.stopped ? null : await this.repo.nextDueAt();
      if (this.failing) this.logger.log('webhook delivery works again');
      this.failing = false;
      this.sleepUntil(next);
    } catch (e) {
      this.fanOutDue = true;
      if (!this.failing) this.logger.error(`webhook delivery failed (${(e as Error).message}); tried again every second`);
      this.failing = true;
      this.sleepUntil(null);
    }
  }

  private sleepUntil(next: Date | null): void {
    if (this.stopped) return;
    const ms = next ? Math.min(Math.max(next.getTime() - Date.now(), 0), IDLE_WAKE_MS) : IDLE_WAKE_MS;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), ms);
    this.timer.unref();
  }

  /** Hands over one batch of outbox rows; returns how many (0 as well when another instance holds the hand-over). */
  async fanOut(): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const [{ locked }] = (await m.query(`SELECT pg_try_advisory_xact_lock($1, $2) AS locked`, [...FAN_OUT_LOCK])) as {
        locked: boolean;
      }[];
      if (!locked) return 0;
      const rows = await this.outbox.notFannedOut(m, FAN_OUT_BATCH);
      if (!rows.length) return 0;
      const endpoints = await this.repo.enabledEndpoints(m);
      const deliveries: NewDelivery[] = [];
      if (endpoints.length) {
        // Each member's membership before this batch, then as the batch's rows change it.
        const firstIds = new Map<string, string>();
        for (const row of rows) if (!firstIds.has(row.userId)) firstIds.set(row.userId, row.id);
        const membership = (await this.outbox.membershipBefore(m, firstIds)) as unknown as Map<string, MembershipSnapshot>;
        // The contracts as they stand now (committed; normally within a second of the rows): what
        // GET /entitlements answers of auto-renewal and grace, which the rows' snapshots do not hold.
        const contracts = (await this.autoRenewals?.ofMembers([...firstIds.keys()])) ?? new Map();
        for (const row of rows) {
          const retryUntil = new Date(row.createdAt.getTime() + retryWindowMs(this.config.webhookRetryBaseMs));
          const events = webhookEventsOf(row, {
            membership: membership.get(row.userId) ?? null,
            contract: contracts.get(row.userId) ?? null,
          });
          if (row.payload.membership) membership.set(row.userId, row.payload.membership as MembershipSnapshot);
          for (const event of events) {
            for (const endpoint of endpoints) {
              if (!endpoint.events.includes(event.type)) continue;
              deliveries.push({
                endpointId: endpoint.id,
                eventId: row.id,
                type: event.type,
                webhookEventId: event.id,
                userId: row.userId,
                body: event.body,
                retryUntil,
              });
            }
          }
        }
      }
      await this.repo.insertDeliveries(m, deliveries);
      await this.outbox.markFannedOut(
        m,
        rows.map((r) => r.id),
      );
      return rows.length;
    });
  }

  private async claimAndSend(): Promise<void> {
    // All attempts not yet recorded count here (a recording holds a database connection), only the
    // ones waiting for their receiver against the endpoint's share.
    const free = MAX_IN_FLIGHT - this.running.size;
    if (free <= 0) return;
    const claimed = await this.repo.claimDue(free, MAX_IN_FLIGHT_PER_ENDPOINT, this.inFlight, this.leaseMs());
    for (const d of claimed) {
      this.inFlight.set(d.endpointId, (this.inFlight.get(d.endpointId) ?? 0) + 1);
      // The slot is the receiver's: it is free once the receiver has answered, while the answer is
      // still being recorded (that is what keeps the member's next event back, not the slot).
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const left = (this.inFlight.get(d.endpointId) ?? 1) - 1;
        if (left > 0) this.inFlight.set(d.endpointId, left);
        else this.inFlight.delete(d.endpointId);
        this.wake(false);
      };
      const attempt = this.attempt(d, release).finally(() => {
        release();
        this.running.delete(attempt);
        // The member's next event at this endpoint may be due.
        this.wake(false);
      });
      this.running.add(attempt);
    }
  }

  /** A claim outlives the attempt's deadline, so that only an instance that died leaves it to another. */
  private leaseMs(): number {
    return 2 * this.config.webhookTimeoutMs + 1_000;
  }

  private async attempt(d: ClaimedDelivery, answered: () => void): Promise<void> {
    const attemptedAt = new Date();
    const t = Math.floor(attemptedAt.getTime() / 1000);
    const result = await this.sender.send({
      url: d.url,
      body: d.body,
      headers: {
        'User-Agent': 'memberpay-webhooks/1',
        'Memberpay-Event-Id': d.webhookEventId,
        'Memberpay-Signature': signatureHeader(d.secrets, d.body, t),
      },
    });
    answered();
    // The last attempt is made when the retry window closes, so a delivery fails only after the
    // whole window of failures, and an endpoint failing all along has failed for that long.
    if (this.abandoned) return; // cut off at shutdown: the lease hands it to another instance
    let outcome: AttemptOutcome;
    if (result.ok) outcome = { status: 'delivered' };
    else if (attemptedAt >= d.retryUntil) outcome = { status: 'failed' };
    else {
      const next = Date.now() + retryDelayMs(d.attempts, this.config.webhookRetryBaseMs);
      outcome = { status: 'pending', nextAttemptAt: new Date(Math.min(next, d.retryUntil.getTime())) };
    }
    try {
      const { disabled } = await this.repo.recordAttempt(
        d,
        { attemptedAt, ...result },
        outcome,
        retryWindowMs(this.config.webhookRetryBaseMs),
      );
      this.outcomes?.inc({ outcome: outcome.status === 'pending' ? 'retry' : outcome.status });
      if (outcome.status === 'failed') {
        this.logger.warn(`webhook ${d.webhookEventId} to endpoint ${d.endpointId} failed for good after ${d.attempts} attempt(s)`);
      }
      if (disabled) this.logger.error(`webhook endpoint ${d.endpointId} disabled: ${disabled}`);
    } catch (e) {
      // The endpoint was deleted during the attempt: its deliveries went with it.
      if ((e as { code?: string }).code === '23503') return;
      // Not recorded: the claim's lease runs out and the attempt is made again (receivers dedupe by id).
      this.logger.error(`recording webhook attempt ${d.webhookEventId} failed: ${(e as Error).message}`);
    }
  }
}
