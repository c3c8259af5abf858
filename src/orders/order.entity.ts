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
import { MembershipPlan } from '../membership/membership-plan.entity';
import type { OrderSource, OrderStatus, PaymentMethod, ProductType } from './order-status';
import type { PaymentChannel } from '../payments/payment-channel';

@Entity('orders')
@Unique('UQ_orders_order_no', ['orderNo'])
@Unique('UQ_orders_payment_no', ['paymentNo'])
@Index('IDX_orders_user_created', ['userId', 'createdAt'])
@Index('IDX_orders_status_expire', ['status', 'expireAt'])
@Index('IDX_orders_shortfall_owed', ['paidAt'], { where: '"upgrade_shortfall" > "upgrade_shortfall_refunding"' })
@Index('UQ_orders_pending_upgrade', ['userId'], { unique: true, where: `"is_upgrade" AND "status" = 'pending'` })
@Check('CHK_orders_order_no', `"order_no" ~ '^[0-9A-Za-z_-]{1,32}$'`)
@Check('CHK_orders_status', `"status" IN ('pending', 'paid', 'expired', 'closed', 'failed', 'refunded', 'partially_refunded')`)
@Check('CHK_orders_refunded_amount', '"refunded_amount" >= 0 AND "refunded_amount" <= "amount"')
@Check('CHK_orders_payment_method', `"payment_method" IN ('wechat', 'alipay')`)
@Check('CHK_orders_product_type', `"product_type" IN ('membership')`)
@Check('CHK_orders_amount', '"amount" > 0')
@Check('CHK_orders_currency', `"currency" = 'CNY'`)
@Check('CHK_orders_upgrade_shortfall_refunding', '"upgrade_shortfall_refunding" >= 0')
@Check('CHK_orders_source', `"source" IN ('member', 'renewal')`)
@Check('CHK_orders_channel', `"channel" IN ('qr', 'app', 'h5', 'jsapi', 'wap', 'page')`)
export class Order {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_orders' })
  id: string;

  @Column({ type: 'varchar', length: 32 })
  orderNo: string;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'varchar', length: 16 })
  productType: ProductType;

  @Column({ type: 'integer' })
  productId: number;

  @ManyToOne(() => MembershipPlan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'product_id', foreignKeyConstraintName: 'FK_orders_product' })
  product?: MembershipPlan;

  @Column({ type: 'boolean', default: false })
  isUpgrade: boolean;

  /** Bought with auto-renewal: paying it also signs a contract (the subscriptions module's) that renews the plan. */
  @Column({ type: 'boolean', default: false })
  autoRenew: boolean;

  /** Who made the order: the member (`member`), or the renewal job for a contract's cycle (`renewal`). */
  @Column({ type: 'varchar', length: 16, default: 'member' })
  source: OrderSource;

  @Column({ name: 'amount', type: 'integer' })
  amountFen: number;

  /** What successful refunds of the order's payment returned so far (never more than amount). */
  @Column({ name: 'refunded_amount', type: 'integer', default: 0 })
  refundedAmountFen: number;

  /** An upgrade's terms as quoted: the level it converts from and how much of it (ms), so that it converts exactly that. */
  @Column({ type: 'integer', nullable: true })
  upgradeFromLevel: number | null;

  @Column({ type: 'bigint', nullable: true })
  upgradeMs: string | null;

  /**
   * When an upgrade was quoted, under the member's lock: strictly after every grant the quote saw,
   * so it converts the days granted before then (null for other orders, and for upgrades quoted
   * before this column, which were quoted as of created_at).
   */
  @Column({ type: 'timestamptz', nullable: true })
  upgradeQuotedAt: Date | null;

  /**
   * Fen of an upgrade's price whose days were not there to convert (when it was paid, or after a
   * refund took days it was converting): refunded by itself (refunds of kind upgrade_shortfall).
   */
  @Column({ type: 'integer', nullable: true })
  upgradeShortfall: number | null;

  /** Fen of the shortfall that refunds were started for; the refund job starts one for the rest. */
  @Column({ type: 'integer', default: 0 })
  upgradeShortfallRefunding: number;

  @Column({ type: 'varchar', length: 3, default: 'CNY' })
  currency: string;

  @Column({ type: 'varchar', length: 127 })
  description: string;

  @Column({ type: 'varchar', length: 24, default: 'pending' })
  status: OrderStatus;

  @Column({ type: 'varchar', length: 16 })
  paymentMethod: PaymentMethod;

  /** How the order is paid: the QR code, or a channel for paying on the phone itself. */
  @Column({ type: 'varchar', length: 16, default: 'qr' })
  channel: PaymentChannel;

  /** What the caller gave for the channel (openid, app id, return URL), reused by every attempt. */
  @Column({ type: 'jsonb', nullable: true })
  channelOptions: Record<string, string> | null;

  /** What the client received for the current attempt (the `pay` of the answer). */
  @Column({ type: 'jsonb', nullable: true })
  payParams: Record<string, string> | null;

  /** out_trade_no of the current payment attempt. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  paymentNo: string | null;

  @Column({ type: 'text', nullable: true })
  qrCodeUrl: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  qrCodeExpireAt: Date | null;

  @Column({ type: 'timestamptz' })
  expireAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  /** The provider's trade number (WeChat transaction_id, Alipay trade_no). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  transactionId: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
