import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { Contract } from './contract.entity';

/** open: being charged (or about to be); paid; failed: retries used up (the contract lapsed); abandoned: the contract ended first. */
export type RenewalCycleStatus = 'open' | 'paid' | 'failed' | 'abandoned';

/**
 * One cycle of a contract: its T (due_at) and its one renewal order. UNIQUE(contract, cycle) and one
 * order per cycle: every try of the cycle is an attempt of that order, so the cycle is paid at most once
 * (a second paid attempt is a double payment, refunded).
 */
@Entity('renewal_cycles')
@Unique('UQ_renewal_cycles_contract_cycle', ['contractId', 'cycle'])
@Unique('UQ_renewal_cycles_order', ['orderId'])
@Check('CHK_renewal_cycles_status', `"status" IN ('open', 'paid', 'failed', 'abandoned')`)
@Check('CHK_renewal_cycles_cycle', '"cycle" > 0')
export class RenewalCycle {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_renewal_cycles' })
  id: string;

  @Column({ type: 'uuid' })
  contractId: string;

  @ManyToOne(() => Contract, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'contract_id', foreignKeyConstraintName: 'FK_renewal_cycles_contract' })
  contract?: Contract;

  @Column({ type: 'integer' })
  cycle: number;

  /** T: when the period this cycle buys starts. */
  @Column({ type: 'timestamptz' })
  dueAt: Date;

  @Column({ type: 'uuid' })
  orderId: string;

  // The order is named, not imported: subscriptions reach orders through OrdersService.
  @ManyToOne('Order', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_renewal_cycles_order' })
  order?: unknown;

  @Column({ type: 'varchar', length: 16, default: 'open' })
  status: RenewalCycleStatus;

  /** Deductions asked for in this cycle (each with a new trade number). */
  @Column({ type: 'integer', default: 0 })
  tries: number;

  /** When the next try may be made (the next allowed day after a failure). */
  @Column({ type: 'timestamptz', nullable: true })
  nextTryAt: Date | null;

  /** The provider's reason for the last failed try (NOTENOUGH, ACQ.BUYER_BALANCE_NOT_ENOUGH …). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  lastFailure: string | null;

  /** When membership.renewal_upcoming was appended (once per cycle). */
  @Column({ type: 'timestamptz', nullable: true })
  remindedAt: Date | null;

  /** When the merchant's pre-deduction notice was sent (WeChat Pay merchant notice), once per cycle. */
  @Column({ type: 'timestamptz', nullable: true })
  noticedAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
