import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { PaymentRecord } from './payment-record.entity';
import type { ProviderName } from './provider-name';

/**
 * Refused notifications (bad signature, stale, wrong amount, unknown refund…) that name one of our
 * payments, for support to see in the order's story. What a refused notification says is untrusted,
 * so only what is ours is kept: the order and the attempt it named (both found in our tables), the
 * provider whose URL received it, the rejection code and when; never its body, headers or anything
 * it claims. One row per order, provider, code and minute, with a counter, and a bounded number of
 * rows per order (NotificationRefusalsRepository): a flood of forgeries cannot grow the table
 * without end. The logs and the rejection metrics keep counting everything.
 */
@Entity('notification_refusals')
@Unique('UQ_notification_refusals_minute', ['orderId', 'provider', 'reason', 'minute'])
@Check('CHK_notification_refusals_provider', `"provider" IN ('wechat', 'alipay')`)
@Check('CHK_notification_refusals_count', '"count" > 0')
export class NotificationRefusal {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_notification_refusals' })
  id: string;

  @Column({ type: 'uuid' })
  orderId: string;

  // The order is named, not imported: orders sit above this module and depend on it.
  @ManyToOne('Order', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_notification_refusals_order' })
  order?: unknown;

  /** Our attempt's out_trade_no that the notification named (the first one seen in its minute). */
  @Column({ type: 'varchar', length: 32 })
  paymentNo: string;

  @ManyToOne(() => PaymentRecord, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'payment_no', referencedColumnName: 'paymentNo', foreignKeyConstraintName: 'FK_notification_refusals_payment' })
  payment?: PaymentRecord;

  /** The provider whose callback URL received it (not what the body claims). */
  @Column({ type: 'varchar', length: 16 })
  provider: ProviderName;

  /** The rejection code (NOTIFICATION_REJECTION_REASONS). */
  @Column({ type: 'varchar', length: 32 })
  reason: string;

  /** The minute the refusals of this row fell in (the row's bucket). */
  @Column({ type: 'timestamptz' })
  minute: Date;

  @Column({ type: 'timestamptz' })
  firstAt: Date;

  @Column({ type: 'timestamptz' })
  lastAt: Date;

  /** How many were refused for this order, provider and code in that minute. */
  @Column({ type: 'integer', default: 1 })
  count: number;
}
