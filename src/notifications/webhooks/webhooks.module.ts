import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule } from '../../outbox/outbox.module';
import { WebhookAttempt } from './webhook-attempt.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WebhookEndpoint } from './webhook-endpoint.entity';
import { WebhooksAdminController } from './webhooks-admin.controller';
import { WebhooksAdminService } from './webhooks-admin.service';
import { WebhooksRepository } from './webhooks.repository';

/**
 * Service webhooks: the outbox's second consumer beside the member sockets. Writes the webhook
 * tables and, on the outbox, only which rows it has taken over (through the outbox's repository).
 */
@Module({
  imports: [OutboxModule, TypeOrmModule.forFeature([WebhookEndpoint, WebhookDelivery, WebhookAttempt])],
  controllers: [WebhooksAdminController],
  providers: [WebhooksRepository, WebhookDispatcher, WebhooksAdminService],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
