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
import type { PaymentChannel } from './payment-channel';
import type { ProviderName } from './provider-name';

export const PAYMENT_RECORD_STATUSES = ['pending', 'success', 'closed', 'failed', 'refunded'] as const;
export type PaymentRecordStatus = (typeof PAYMENT_RECORD_STATUSES)[number];

/** One payment attempt at a provider; payment_no is the out_trade_no sent to it. */
@Entity('payment_records')
@Unique('UQ_payment_records_payment_no', ['paymentNo'])
@Index('UQ_payment_records_transaction_id', ['paymentMethod', 'transactionId'], { unique: true, where: '"transaction_id" IS NOT NULL' })
@Index('IDX_payment_records_order', ['orderId'])
@Index('IDX_payment_records_active_query', ['status', 'nextQueryAt'])
@Index('IDX_payment_records_double_payments', ['paidAt'], { where: `"double_payment" AND "status" = 'success'` })
@Index('UQ_payment_records_one_open_deduction', ['orderId'], { unique: true, where: `"contract_id" IS NOT NULL AND "status" = 'pending'` })
@Check('CHK_payment_records_status', `"status" IN ('pending', 'success', 'closed', 'failed', 'refunded')`)
@Check('CHK_payment_records_payment_method', `"payment_method" IN ('wechat', 'alipay')`)
@Check('CHK_payment_records_amount', '"amount" > 0')
@Check('CHK_payment_records_channel', `"channel" IN ('qr', 'app', 'h5', 'jsapi', 'wap', 'page')`)
export class PaymentRecord {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_payment_records' })
  id: string;

  @Column({ type: 'uuid' })
  orderId: string;

  // The order is named, not imported: orders sit above this module and depend on it.
  @ManyToOne('Order', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_payment_records_order' })
  order?: unknown;

  @Column({ type: 'varchar', length: 32 })
  paymentNo: string;

  @Column({ type: 'varchar', length: 16 })
  paymentMethod: ProviderName;

  @Column({ name: 'amount', type: 'integer' })
  amountFen: number;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: PaymentRecordStatus;

  /** The provider's raw state (WeChat trade_state, Alipay trade_status). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  tradeState: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  transactionId: string | null;

  @Column({ type: 'text', nullable: true })
  qrCodeUrl: string | null;

  /** When this attempt stops being payable, whatever its channel (the QR code's or the prepay_id's expiry). */
  @Column({ type: 'timestamptz', nullable: true })
  qrCodeExpireAt: Date | null;

  /**
   * When the order this attempt pays expires (NULL for a deduction, which has no close): from then on
   * the order's expiry closes the attempt, before that its QR code's.
   */
  @Column({ type: 'timestamptz', nullable: true })
  orderExpireAt: Date | null;

  @Column({ type: 'varchar', length: 16, default: 'qr' })
  channel: PaymentChannel;

  /** What the client received for this attempt (signed parameters, a URL, the QR content). */
  @Column({ type: 'jsonb', nullable: true })
  payParams: Record<string, string> | null;

  @Column({ type: 'integer', default: 0 })
  queryCount: number;

  @Column({ type: 'timestamptz', nullable: true })
  nextQueryAt: Date | null;

  /** The verified, decrypted notification (or query answer) that settled this attempt. */
  @Column({ type: 'jsonb', nullable: true })
  notifyPayload: Record<string, unknown> | null;

  @Column({ type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  /**
   * A deduction under an auto-renewal contract: the provider's contract id it ran under (WeChat Pay
   * contract_id, Alipay agreement_no). Null for every attempt the member pays herself. Deductions are
   * asked for by the server and followed by queryDeduction, never by the checkout jobs' query and close.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  contractId: string | null;

  /** Paid after another attempt had paid its order: money to return (a refund of kind duplicate_payment). */
  @Column({ type: 'boolean', default: false })
  doublePayment: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
