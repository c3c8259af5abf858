import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { preparedQuery } from '../../database/prepared-query';
import { WebhookAttempt } from './webhook-attempt.entity';
import { DeliveryStatus, WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEndpoint } from './webhook-endpoint.entity';

export interface NewDelivery {
  endpointId: string;
  eventId: string;
  type: string;
  webhookEventId: string;
  userId: string;
  body: string;
  retryUntil: Date;
}

/** A delivery claimed for one attempt, with what the attempt needs of its endpoint. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  webhookEventId: string;
  type: string;
  body: string;
  attempts: number;
  retryUntil: Date;
  url: string;
  secrets: string[];
}

export interface AttemptRecord {
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  responseBody: string | null;
  error: string | null;
}

export type AttemptOutcome = { status: 'delivered' } | { status: 'pending'; nextAttemptAt: Date } | { status: 'failed' };

/**
 * webhook_endpoints, webhook_deliveries and webhook_attempts: the webhooks write them and nobody
 * else. Deliveries are claimed as the scheduled jobs claim their rows: FOR UPDATE SKIP LOCKED in
 * one statement that also moves the row's next attempt past a lease, so no two instances post the
 * same delivery at once and one that dies mid-attempt leaves it to another when the lease ends.
 */
@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly dataSource: DataSource,
    @InjectRepository(WebhookEndpoint) readonly endpoints: Repository<WebhookEndpoint>,
    @InjectRepository(WebhookAttempt) private readonly attempts: Repository<WebhookAttempt>,
  ) {}

  enabledEndpoints(m: EntityManager): Promise<{ id: string; events: string[] }[]> {
    return m.query(`SELECT id, events FROM webhook_endpoints WHERE enabled`);
  }

  /** Creates deliveries; one already there for the same endpoint and event id is left alone. */
  async insertDeliveries(m: EntityManager, rows: NewDelivery[]): Promise<void> {
    if (!rows.length) return;
    await m.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, webhook_event_id, user_id, body, retry_until)
       SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::varchar[], $4::varchar[], $5::varchar[], $6::text[], $7::timestamptz[])
       ON CONFLICT ON CONSTRAINT "UQ_webhook_deliveries_event" DO NOTHING`,
      [
        rows.map((r) => r.endpointId),
        rows.map((r) => r.eventId),
        rows.map((r) => r.type),
        rows.map((r) => r.webhookEventId),
        rows.map((r) => r.userId),
        rows.map((r) => r.body),
        rows.map((r) => r.retryUntil.toISOString()),
      ],
    );
  }

  /**
   * Claims up to `limit` due deliveries of enabled endpoints, at most `perEndpoint` in flight per
   * endpoint counting `busy` (this instance's attempts running). Only the head of each member's queue
   * at an endpoint is due: a delivery waits while an earlier event of the same member for the same
   * endpoint is pending (in flight or waiting to be retried), so a member's events arrive in order
   * (outbox order; an event derived from the same row, membership.changed, after the row's own).
   * Each member's queue head is read in one pass over the pending deliveries in queue order (the
   * member-queue index), not by checking every due delivery for an earlier one; and the deliveries of
   * an endpoint already at `perEndpoint` here are not read at all: a slow receiver's backlog would
   * otherwise be read again at every claim, while every other endpoint's deliveries wait for those claims.
   */
  async claimDue(limit: number, perEndpoint: number, busy: ReadonlyMap<string, number>, leaseMs: number): Promise<ClaimedDelivery[]> {
    const full = [...busy].filter(([, inFlight]) => inFlight >= perEndpoint).map(([endpointId]) => endpointId);
    const [rows] = (await this.dataSource.query(
      `WITH busy AS (SELECT * FROM unnest($3::uuid[], $4::int[]) AS b(endpoint_id, in_flight)),
       queue_heads AS (
         SELECT DISTINCT ON (d.endpoint_id, d.user_id) d.id, d.endpoint_id, d.next_attempt_at
           FROM webhook_deliveries d
          WHERE d.status = 'pending' AND d.endpoint_id <> ALL($6::uuid[])
          ORDER BY d.endpoint_id, d.user_id, d.event_id, d.id),
       heads AS (
         SELECT q.id, q.endpoint_id, q.next_attempt_at,
                row_number() OVER (PARTITION BY q.endpoint_id ORDER BY q.next_attempt_at, q.id) AS rank
           FROM queue_heads q
           JOIN webhook_endpoints e ON e.id = q.endpoint_id AND e.enabled
          WHERE q.next_attempt_at <= now()),
       picked AS (
         SELECT h.id FROM heads h LEFT JOIN busy b ON b.endpoint_id = h.endpoint_id
          WHERE h.rank <= $2 - coalesce(b.in_flight, 0)
          ORDER BY h.next_attempt_at, h.id LIMIT $1),
       claimed AS (
         SELECT d.id FROM webhook_deliveries d
          WHERE d.id IN (SELECT id FROM picked) AND d.status = 'pending' AND d.next_attempt_at <= now()
          FOR UPDATE SKIP LOCKED)
       UPDATE webhook_deliveries d
          SET next_attempt_at = now() + make_interval(secs => $5::double precision / 1000), attempts = d.attempts + 1
         FROM claimed c, webhook_endpoints e
        WHERE d.id = c.id AND e.id = d.endpoint_id
       RETURNING d.id, d.endpoint_id, d.webhook_event_id, d.type, d.body, d.attempts, d.retry_until, e.url,
                 e.secret, CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret`,
      [limit, perEndpoint, [...busy.keys()], [...busy.values()], leaseMs, full],
    )) as [
      {
        id: string;
        endpoint_id: string;
        webhook_event_id: string;
        type: string;
        body: string;
        attempts: number;
        retry_until: Date;
        url: string;
        secret: string;
        previous_secret: string | null;
      }[],
      number,
    ];
    return rows.map((r) => ({
      id: String(r.id),
      endpointId: r.endpoint_id,
      webhookEventId: r.webhook_event_id,
      type: r.type,
      body: r.body,
      attempts: r.attempts,
      retryUntil: r.retry_until,
      url: r.url,
      secrets: r.previous_secret ? [r.secret, r.previous_secret] : [r.secret],
    }));
  }

  /**
   * Records an attempt and what follows from it, in one transaction: the delivery's new state and
   * the endpoint's run of failures. An endpoint whose failures have lasted `disableAfterMs` with no
   * success between is disabled, saying why. Returns the reason when this attempt disabled it.
   */
  async recordAttempt(
    delivery: ClaimedDelivery,
    attempt: AttemptRecord,
    outcome: AttemptOutcome,
    disableAfterMs: number,
  ): Promise<{ disabled: string | null }> {
    if (outcome.status === 'delivered') {
      // The common case in one statement (atomic on its own): no transaction's BEGIN and COMMIT
      // round trips, and nothing of the endpoint's to lock.
      await preparedQuery(
        this.dataSource,
        'webhook-record-delivered',
        `WITH attempt AS (
           INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, latency_ms, response_body, error)
           VALUES ($1, $2, $3, $4, $5, $6)),
         delivery AS (
           UPDATE webhook_deliveries SET status = 'delivered', last_attempt_at = $2, last_status_code = $3, last_error = $6, delivered_at = now()
            WHERE id = $1 AND status = 'pending')
         UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $7 AND failing_since IS NOT NULL`,
        [delivery.id, attempt.attemptedAt, attempt.statusCode, attempt.latencyMs, attempt.responseBody, attempt.error, delivery.endpointId],
      );
      return { disabled: null };
    }
    return this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, latency_ms, response_body, error)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [delivery.id, attempt.attemptedAt, attempt.statusCode, attempt.latencyMs, attempt.responseBody, attempt.error],
      );
      await m.query(
        `UPDATE webhook_deliveries
            SET status = $2::varchar, next_attempt_at = coalesce($3::timestamptz, next_attempt_at), last_attempt_at = $4, last_status_code = $5,
                last_error = $6
          WHERE id = $1 AND status = 'pending'`,
        [
          delivery.id,
          outcome.status,
          outcome.status === 'pending' ? outcome.nextAttemptAt : null,
          attempt.attemptedAt,
          attempt.statusCode,
          attempt.error,
        ],
      );
      const reason = `no delivery has succeeded for ${Math.round(disableAfterMs / 3_600_000)} h; last attempt: ${
        attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : attempt.error
      }`;
      // Disabled once its failures have lasted the window: an attempt that long after the first
      // failure, or a delivery failed for good (retried the whole window) with no success since before it began.
      const [rows] = (await m.query(
        `WITH cur AS (
           SELECT coalesce(failing_since, $2) AS since,
                  enabled AND (coalesce(failing_since, $2) <= $2::timestamptz - make_interval(secs => $3::double precision / 1000)
                               OR ($5 AND coalesce(failing_since, $2) <= (SELECT min(attempted_at) FROM webhook_attempts WHERE delivery_id = $6)))
                    AS disable
             FROM webhook_endpoints WHERE id = $1 FOR UPDATE)
         UPDATE webhook_endpoints e
            SET failing_since = cur.since,
                enabled = e.enabled AND NOT cur.disable,
                disabled_reason = CASE WHEN cur.disable THEN $4 ELSE e.disabled_reason END,
                disabled_at = CASE WHEN cur.disable THEN now() ELSE e.disabled_at END
           FROM cur
          WHERE e.id = $1
          RETURNING cur.disable`,
        [delivery.endpointId, attempt.attemptedAt, disableAfterMs, reason, outcome.status === 'failed', delivery.id],
      )) as [{ disable: boolean }[], number];
      return { disabled: rows[0]?.disable ? reason : null };
    });
  }

  /** When the next pending delivery of an enabled endpoint falls due (null: none pending). */
  async nextDueAt(): Promise<Date | null> {
    const [row] = await preparedQuery<{ at: Date | null }>(
      this.dataSource,
      'webhook-next-due',
      // In the due index's order, stopping at the first of an enabled endpoint: min() over a join
      // read every pending delivery (2 ms with a slow receiver's backlog of a few thousand).
      `SELECT d.next_attempt_at AS at FROM webhook_deliveries d
        WHERE d.status = 'pending' AND EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.id = d.endpoint_id AND e.enabled)
        ORDER BY d.next_attempt_at LIMIT 1`,
      [],
    );
    return row?.at ?? null;
  }

  /** Per endpoint, the creation time of its oldest pending delivery (metrics). */
  oldestPending(): Promise<{ endpoint_id: string; oldest: Date }[]> {
    return this.dataSource.query(
      `SELECT endpoint_id, min(created_at) AS oldest FROM webhook_deliveries WHERE status = 'pending' GROUP BY endpoint_id`,
    );
  }

  /** An endpoint's deliveries, newest first, each with its attempts (Stripe-style cursor). */
  async deliveries(
    endpointId: string,
    status: DeliveryStatus | undefined,
    limit: number,
    startingAfter: string | undefined,
  ): Promise<{ deliveries: WebhookDelivery[]; attempts: WebhookAttempt[]; hasMore: boolean }> {
    const qb = this.dataSource
      .getRepository(WebhookDelivery)
      .createQueryBuilder('d')
      .where('d.endpointId = :endpointId', { endpointId })
      .orderBy('d.id', 'DESC')
      .take(limit + 1);
    if (status) qb.andWhere('d.status = :status', { status });
    if (startingAfter) qb.andWhere('d.id < :after', { after: startingAfter });
    const found = await qb.getMany();
    const deliveries = found.slice(0, limit);
    const attempts = deliveries.length
      ? await this.attempts
          .createQueryBuilder('a')
          .where('a.deliveryId IN (:...ids)', { ids: deliveries.map((d) => d.id) })
          .orderBy('a.id', 'ASC')
          .getMany()
      : [];
    return { deliveries, attempts, hasMore: found.length > limit };
  }

  findDelivery(id: string): Promise<WebhookDelivery | null> {
    return this.dataSource.getRepository(WebhookDelivery).findOneBy({ id });
  }

  /** Makes a delivery due now again, whatever it came to, with a new retry window. */
  async redeliver(id: string, retryUntil: Date): Promise<WebhookDelivery | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), retry_until = $2 WHERE id = $1 RETURNING id`,
      [id, retryUntil],
    )) as [{ id: string }[], number];
    return rows.length ? this.findDelivery(id) : null;
  }
}
