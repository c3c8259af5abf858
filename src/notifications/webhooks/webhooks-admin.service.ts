import { Injectable } from '@nestjs/common';
import { DomainError, NotFoundError } from '../../common/errors/domain-error';
import { AppConfig } from '../../config/app-config';
import { WebhookAttempt } from './webhook-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { retryWindowMs } from './webhook-schedule';
import { maskSecret, newWebhookSecret } from './webhook-signature';
import { CreateEndpointDto, ListDeliveriesDto, UpdateEndpointDto } from './webhooks-admin.dto';
import { DeliveryList, DeliveryView, EndpointList, EndpointView, EndpointWithSecret } from './webhooks-admin.views';
import { WebhooksRepository } from './webhooks.repository';

/** After a rotation the old secret signs beside the new one this long, so receivers can roll. */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

/** The admin side of the webhooks: endpoints, their secrets, their delivery history. */
@Injectable()
export class WebhooksAdminService {
  constructor(
    private readonly repo: WebhooksRepository,
    private readonly dispatcher: WebhookDispatcher,
    private readonly config: AppConfig,
  ) {}

  async create(body: CreateEndpointDto): Promise<EndpointWithSecret> {
    this.checkUrl(body.url);
    const secret = newWebhookSecret();
    const saved = await this.repo.endpoints.save(
      this.repo.endpoints.create({ url: body.url, events: body.events, description: body.description ?? '', secret }),
    );
    return { ...toEndpointView(saved), secret };
  }

  async list(): Promise<EndpointList> {
    return { data: (await this.repo.endpoints.find({ order: { createdAt: 'ASC' } })).map(toEndpointView) };
  }

  async get(id: string): Promise<EndpointView> {
    return toEndpointView(await this.endpoint(id));
  }

  async update(id: string, body: UpdateEndpointDto): Promise<EndpointView> {
    const endpoint = await this.endpoint(id);
    if (body.url !== undefined) {
      this.checkUrl(body.url);
      endpoint.url = body.url;
    }
    if (body.events !== undefined) endpoint.events = body.events;
    if (body.description !== undefined) endpoint.description = body.description;
    if (body.enabled !== undefined && body.enabled !== endpoint.enabled) {
      endpoint.enabled = body.enabled;
      // Enabled again by an admin: its run of failures starts over, and the reason is history.
      if (body.enabled) Object.assign(endpoint, { failingSince: null, disabledReason: null, disabledAt: null });
      else Object.assign(endpoint, { disabledReason: null, disabledAt: new Date() });
    }
    const saved = await this.repo.endpoints.save(endpoint);
    if (saved.enabled) this.dispatcher.wake();
    return toEndpointView(saved);
  }

  async remove(id: string): Promise<void> {
    const { affected } = await this.repo.endpoints.delete({ id });
    if (!affected) throw new NotFoundError('NOT_FOUND', `No webhook endpoint has the id ${id}`);
  }

  /** A new secret, shown once; the one it replaces keeps signing beside it for 24 hours. */
  async rotate(id: string): Promise<EndpointWithSecret> {
    const endpoint = await this.endpoint(id);
    const secret = newWebhookSecret();
    endpoint.previousSecret = endpoint.secret;
    endpoint.previousSecretExpiresAt = new Date(Date.now() + ROTATION_OVERLAP_MS);
    endpoint.secret = secret;
    return { ...toEndpointView(await this.repo.endpoints.save(endpoint)), secret };
  }

  async deliveries(id: string, query: ListDeliveriesDto): Promise<DeliveryList> {
    await this.endpoint(id);
    const { deliveries, attempts, hasMore } = await this.repo.deliveries(id, query.status, query.limit ?? 20, query.starting_after);
    return { data: deliveries.map((d) => toDeliveryView(d, attempts)), has_more: hasMore };
  }

  async redeliver(id: string): Promise<DeliveryView> {
    const delivery = await this.repo.redeliver(id, new Date(Date.now() + retryWindowMs(this.config.webhookRetryBaseMs)));
    if (!delivery) throw new NotFoundError('NOT_FOUND', `No webhook delivery has the id ${id}`);
    this.dispatcher.wake();
    return toDeliveryView(delivery, []);
  }

  private async endpoint(id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.repo.endpoints.findOneBy({ id });
    if (!endpoint) throw new NotFoundError('NOT_FOUND', `No webhook endpoint has the id ${id}`);
    return endpoint;
  }

  private checkUrl(url: string): void {
    const problem = this.dispatcher.policy.problem(url);
    if (problem) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [problem]);
  }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function toEndpointView(e: WebhookEndpoint): EndpointView {
  return {
    id: e.id,
    url: e.url,
    events: e.events,
    description: e.description,
    enabled: e.enabled,
    disabled_reason: e.disabledReason,
    disabled_at: iso(e.disabledAt),
    failing_since: iso(e.failingSince),
    secret_hint: maskSecret(e.secret),
    previous_secret_expires_at: e.previousSecretExpiresAt && e.previousSecretExpiresAt > new Date() ? iso(e.previousSecretExpiresAt) : null,
    created_at: e.createdAt.toISOString(),
    updated_at: e.updatedAt.toISOString(),
  };
}

function toDeliveryView(d: WebhookDelivery, attempts: WebhookAttempt[]): DeliveryView {
  return {
    id: d.id,
    event_id: d.webhookEventId,
    type: d.type,
    status: d.status,
    attempt_count: d.attempts,
    next_attempt_at: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    created_at: d.createdAt.toISOString(),
    delivered_at: iso(d.deliveredAt),
    attempts: attempts
      .filter((a) => a.deliveryId === d.id)
      .map((a) => ({
        attempted_at: a.attemptedAt.toISOString(),
        status_code: a.statusCode,
        latency_ms: a.latencyMs,
        response_body: a.responseBody,
        error: a.error,
      })),
  };
}
