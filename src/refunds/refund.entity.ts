import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  Unique,
  UpdateDateColumn,
} from 'typeorm';
import type { PaymentMethod } from '../orders/order-status';
import { Order } from '../orders/order.entity';
import { PaymentRecord } from '../payments/payment-record.entity';
import type { RefundKind, RefundMembershipEffect, RefundStatus } from './refund-status';

/**
 * One refund of one paid attempt. refund_no is the number the provider knows it by
 * (out_refund_no / out_request_no): every retry sends the same one, so it refunds at most once.
 * The trigger refunds_within_paid (migration 1764057600300) keeps the money held by refunds
 * within what the attempt was paid.
 */
@Entity('refunds')
@Unique('UQ_refunds_refund_no', ['refundNo'])
@Index('IDX_refunds_order', ['orderId', 'createdAt'])
@Index('IDX_refunds_due', ['status', 'nextQueryAt'])
@Index('UQ_refunds_duplicate_payment', ['paymentNo'], { unique: true, where: `"kind" = 'duplicate_payment'` })
@Check('CHK_refunds_refund_no', `"refund_no" ~ '^[0-9A-Za-z]{1,32}$'`)
@Check('CHK_refunds_amount', '"amount" > 0')
@Check('CHK_refunds_status', `"status" IN ('processing', 'success', 'failed', 'closed', 'abnormal')`)
@Check('CHK_refunds_kind', `"kind" IN ('support', 'duplicate_payment', 'upgrade_shortfall')`)
@Check('CHK_refunds_membership', `"membership" IN ('withdraw', 'keep')`)
@Check('CHK_refunds_payment_method', `"payment_method" IN ('wechat', 'alipay')`)
@Check('CHK_refunds_reason', `"reason" <> ''`)
export class Refund {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_refunds' })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  refundNo: string;

  @Column({ type: 'uuid' })
  orderId: string;

  @ManyToOne(() => Order, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_refunds_order' })
  order?: Order;

  /** The paid attempt refunded (its out_trade_no). */
  @Column({ type: 'varchar', length: 32 })
  paymentNo: string;

  @ManyToOne(() => PaymentRecord, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'payment_no', referencedColumnName: 'paymentNo', foreignKeyConstraintName: 'FK_refunds_payment' })
  payment?: PaymentRecord;

  @Column({ type: 'varchar', length: 16 })
  paymentMethod: PaymentMethod;

  @Column({ name: 'amount', type: 'integer' })
  amountFen: number;

  @Column({ type: 'varchar', length: 16, default: 'processing' })
  status: RefundStatus;

  @Column({ type: 'varchar', length: 24, default: 'support' })
  kind: RefundKind;

  @Column({ type: 'varchar', length: 256 })
  reason: string;

  /**
   * What a support refund does to the membership: `withdraw` takes back the days its fen bought;
   * `keep` leaves them (a concession, by requested_by, for reason).
   */
  @Column({ type: 'varchar', length: 16, default: 'withdraw' })
  membership: RefundMembershipEffect;

  /** The admin's `sub`, or `system` for an automatic refund. */
  @Column({ type: 'varchar', length: 64 })
  requestedBy: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  providerRefundId: string | null;

  /** The provider's raw state (WeChat refund status, Alipay refund_status / fund_change). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  providerState: string | null;

  /** The provider's words when it refused or closed the refund. */
  @Column({ type: 'varchar', length: 256, nullable: true })
  failureReason: string | null;

  /** Refund requests sent to the provider (retries send the same refund_no). */
  @Column({ type: 'integer', default: 0 })
  providerCalls: number;

  @Column({ type: 'integer', default: 0 })
  queryCount: number;

  /** When the job may next ask the provider about it (NULL: nothing scheduled). */
  @Column({ type: 'timestamptz', nullable: true })
  nextQueryAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  succeededAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
