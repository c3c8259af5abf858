import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

/** One POST of a delivery: when, the HTTP status (null: no answer), how long, and the answer's start. */
@Entity('webhook_attempts')
@Index('IDX_webhook_attempts_delivery', ['deliveryId', 'id'])
export class WebhookAttempt {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_webhook_attempts' })
  id: string;

  @Column({ type: 'bigint' })
  deliveryId: string;

  @ManyToOne('WebhookDelivery', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'delivery_id', foreignKeyConstraintName: 'FK_webhook_attempts_delivery' })
  delivery?: unknown;

  @Column({ type: 'timestamptz' })
  attemptedAt: Date;

  @Column({ type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ type: 'integer' })
  latencyMs: number;

  /** The first 1 KB of the answer's body. */
  @Column({ type: 'varchar', length: 1024, nullable: true })
  responseBody: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
