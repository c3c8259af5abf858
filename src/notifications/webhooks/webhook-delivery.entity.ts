import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One event for one endpoint: the exact body every attempt posts (so the bytes, and the id in them,
 * never change across retries), whether it is still due, and when it is tried next.
 */
@Entity('webhook_deliveries')
@Unique('UQ_webhook_deliveries_event', ['endpointId', 'webhookEventId'])
@Check('CHK_webhook_deliveries_status', `"status" IN ('pending', 'delivered', 'failed')`)
@Index('IDX_webhook_deliveries_due', ['nextAttemptAt'], { where: `"status" = 'pending'` })
@Index('IDX_webhook_deliveries_member_queue', ['endpointId', 'userId', 'eventId'], { where: `"status" = 'pending'` })
@Index('IDX_webhook_deliveries_endpoint', ['endpointId', 'id'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_webhook_deliveries' })
  id: string;

  @Column({ type: 'uuid' })
  endpointId: string;

  @ManyToOne('WebhookEndpoint', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'endpoint_id', foreignKeyConstraintName: 'FK_webhook_deliveries_endpoint' })
  endpoint?: unknown;

  /** The outbox row it comes from; a member's deliveries to one endpoint go out in this order. */
  @Column({ type: 'bigint' })
  eventId: string;

  @ManyToOne('OrderEvent', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'event_id', foreignKeyConstraintName: 'FK_webhook_deliveries_event' })
  event?: unknown;

  @Column({ type: 'varchar', length: 64 })
  type: string;

  /** The `id` of the body and the Memberpay-Event-Id header. */
  @Column({ type: 'varchar', length: 64 })
  webhookEventId: string;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** When it may be tried next; while an attempt runs, the end of that attempt's lease. */
  @Column({ type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  /** After this a failed attempt is the last: the delivery becomes `failed`. */
  @Column({ type: 'timestamptz' })
  retryUntil: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
