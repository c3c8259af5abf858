import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

export const ORDER_EVENT_TYPES = [
  'order.paid',
  'order.expired',
  'order.closed',
  'order.refunded',
  'membership.renewal_upcoming',
  'membership.renewed',
  'membership.renewal_failed',
  'membership.renewal_recovered',
  'membership.auto_renew_lapsed',
] as const;
export type OrderEventType = (typeof ORDER_EVENT_TYPES)[number];

/**
 * The transactional outbox: a change a client must hear of is written here inside the
 * transaction that makes it, with an increasing id; delivery reads it after commit.
 */
@Entity('order_events')
@Index('IDX_order_events_user', ['userId', 'id'])
@Index('IDX_order_events_created', ['createdAt'])
@Index('IDX_order_events_unpublished', ['id'], { where: '"published_at" IS NULL' })
@Index('IDX_order_events_not_fanned_out', ['id'], { where: '"fanned_out_at" IS NULL' })
@Check(
  'CHK_order_events_type',
  `"type" IN ('order.paid', 'order.expired', 'order.closed', 'order.refunded', 'membership.renewal_upcoming', 'membership.renewed', 'membership.renewal_failed', 'membership.renewal_recovered', 'membership.auto_renew_lapsed')`,
)
export class OrderEvent {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_order_events' })
  id: string;

  @Column({ type: 'uuid' })
  orderId: string;

  // The order is named, not imported: the outbox sits below orders, which write to it.
  @ManyToOne('Order', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_order_events_order' })
  order?: unknown;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'varchar', length: 32 })
  type: OrderEventType;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  /** When it was pushed to the clients, or claimed by the relay to be (null: not yet announced). */
  @Column({ type: 'timestamptz', nullable: true })
  publishedAt: Date | null;

  /** When it was handed to the service webhooks (their deliveries created), or null: not yet. */
  @Column({ type: 'timestamptz', nullable: true })
  fannedOutAt: Date | null;
}
