import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { ReconciliationRun } from './reconciliation-run.entity';

export const OUTCOMES = ['matched', 'missing_locally', 'missing_at_provider', 'amount_mismatch', 'status_mismatch'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type ItemKind = 'payment' | 'refund';

/** One payment or refund of a reconciled day: how our books and the provider's bill compare. */
@Entity('reconciliation_items')
@Unique('UQ_reconciliation_items_reference', ['runId', 'kind', 'reference'])
@Index('IDX_reconciliation_items_run_outcome', ['runId', 'outcome'])
@Check(
  'CHK_reconciliation_items_fee',
  `("provider_fee_milli_fen" IS NULL) = ("provider_fee_decimals" IS NULL) AND "provider_fee_decimals" BETWEEN 0 AND 5`,
)
@Check('CHK_reconciliation_items_kind', `"kind" IN ('payment', 'refund')`)
@Check(
  'CHK_reconciliation_items_outcome',
  `"outcome" IN ('matched', 'missing_locally', 'missing_at_provider', 'amount_mismatch', 'status_mismatch')`,
)
export class ReconciliationItem {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_reconciliation_items' })
  id: string;

  @Column({ type: 'uuid' })
  runId: string;

  @ManyToOne(() => ReconciliationRun, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'FK_reconciliation_items_run' })
  run?: ReconciliationRun;

  @Column({ type: 'varchar', length: 16 })
  kind: ItemKind;

  /** out_trade_no of a payment, out_refund_no / out_request_no of a refund. */
  @Column({ type: 'varchar', length: 64 })
  reference: string;

  /** out_trade_no (for a refund, of the payment it refunds). */
  @Column({ type: 'varchar', length: 64 })
  paymentNo: string;

  @Column({ type: 'varchar', length: 24 })
  outcome: Outcome;

  @Column({ type: 'integer', nullable: true })
  localAmount: number | null;

  @Column({ type: 'integer', nullable: true })
  providerAmount: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  localStatus: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  providerStatus: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  providerTradeNo: string | null;

  /**
   * The provider's fee on the bill's line in 1/1000 fen (0.00001 yuan), exact: WeChat Pay bills fees
   * with five decimals of yuan, finer than the integer fen our own money is kept in, and rounding
   * them would make a day's fees disagree with the provider's total (src/common/money.ts, BillFee).
   * Positive when charged, negative when given back with a refund; null when the bill gives none.
   */
  @Column({ type: 'bigint', nullable: true })
  providerFeeMilliFen: string | null;

  /** The decimals of yuan the bill wrote the fee with (WeChat Pay 5, Alipay 2): the export writes it the same way. */
  @Column({ type: 'smallint', nullable: true })
  providerFeeDecimals: number | null;

  /** What reconciliation did about it: `settled` (a payment), `recorded` (a refund). */
  @Column({ type: 'varchar', length: 16, nullable: true })
  action: string | null;

  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  resolvedAt: Date | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  resolvedBy: string | null;

  @Column({ type: 'text', nullable: true })
  resolutionNote: string | null;

  /** Every resolution, oldest first (the three columns above are the latest): resolving again adds one. */
  @Column({ type: 'jsonb', default: () => "'[]'" })
  resolutions: ItemResolution[];

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}

/** One resolution of an item, as stored in its history (jsonb). */
export interface ItemResolution {
  resolved_at: string;
  resolved_by: string;
  note: string | null;
}
