import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import type { ProviderName } from '../payments/provider-name';

export const RUN_STATUSES = ['running', 'completed', 'not_ready', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * The reconciliation of one provider's bill for one Beijing day. One row per day and provider:
 * reconciling the day again replaces its result. The row is also the claim that keeps two
 * instances from reconciling the same day at once (status `running` until lease_until).
 */
@Entity('reconciliation_runs')
@Unique('UQ_reconciliation_runs_day', ['provider', 'billDate'])
@Check('CHK_reconciliation_runs_status', `"status" IN ('running', 'completed', 'not_ready', 'failed')`)
@Check('CHK_reconciliation_runs_provider', `"provider" IN ('wechat', 'alipay')`)
export class ReconciliationRun {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_reconciliation_runs' })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  provider: ProviderName;

  /** The Beijing day of the bill. */
  @Column({ type: 'date' })
  billDate: string;

  @Column({ type: 'varchar', length: 16 })
  status: RunStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'timestamptz', nullable: true })
  leaseUntil: Date | null;

  /** When a `not_ready` or `failed` day may be tried again by the scheduled job. */
  @Column({ type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ type: 'timestamptz' })
  startedAt: Date;

  /** When the comparison now held was made. */
  @Column({ type: 'timestamptz', nullable: true })
  comparedAt: Date | null;

  /** SHA1 of the bill compared (WeChat Pay's verified hash; for Alipay, of the ZIP); null for a day without a file. */
  @Column({ type: 'varchar', length: 40, nullable: true })
  billSha1: string | null;

  @Column({ type: 'integer', nullable: true })
  billRows: number | null;

  @Column({ type: 'integer', default: 0 })
  matched: number;

  @Column({ type: 'integer', default: 0 })
  missingLocally: number;

  @Column({ type: 'integer', default: 0 })
  missingAtProvider: number;

  @Column({ type: 'integer', default: 0 })
  amountMismatch: number;

  @Column({ type: 'integer', default: 0 })
  statusMismatch: number;

  /** Discrepancies nobody has resolved yet. */
  @Column({ type: 'integer', default: 0 })
  openItems: number;

  /** Why the last attempt did not compare (not ready, a refused bill, a provider failure). */
  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
