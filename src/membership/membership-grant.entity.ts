import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { MembershipPlan } from './membership-plan.entity';

export const GRANT_KINDS = ['add', 'upgrade', 'opening'] as const;
export type GrantKind = (typeof GRANT_KINDS)[number];

/**
 * What one paid order brings to its member's ledger: the inputs the periods are rebuilt from
 * (membership-ledger.ts). One row per order (the unique order_id makes a grant happen once); a
 * refunded order's grant is revoked, not deleted, and no longer counts. `opening` rows carry a
 * membership that predates the ledger (their order, where there was one).
 */
@Entity('membership_grants')
@Unique('UQ_membership_grants_order_id', ['orderId'])
@Index('IDX_membership_grants_user', ['userId', 'grantedAt'])
@Index('IDX_membership_grants_unconverted', ['grantedAt'], {
  where: `"kind" = 'upgrade' AND "revoked_at" IS NULL AND "upgrade_quoted_ms" - "withdrawn_ms" - COALESCE("converted_ms", 0) > 0`,
})
@Check('CHK_membership_grants_kind', `"kind" IN ('add', 'upgrade', 'opening')`)
@Check('CHK_membership_grants_order', `"order_id" IS NOT NULL OR "kind" = 'opening'`)
@Check(
  'CHK_membership_grants_upgrade',
  `("kind" = 'upgrade') = ("upgrade_from_level" IS NOT NULL AND "upgrade_quoted_ms" IS NOT NULL AND "upgrade_quoted_at" IS NOT NULL)`,
)
@Check('CHK_membership_grants_duration', '"duration_ms" >= 0')
@Check('CHK_membership_grants_withdrawn_ms', '"withdrawn_ms" >= 0')
@Check('CHK_membership_grants_withdrawn_fen', '"withdrawn_fen" >= 0')
@Check('CHK_membership_grants_shortfall_fen', '"shortfall_fen" >= 0')
export class MembershipGrant {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_membership_grants' })
  id: string;

  @Column({ type: 'uuid', nullable: true })
  orderId: string | null;

  // The order is named, not imported: orders sit above this module and depend on it.
  @ManyToOne('Order', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_membership_grants_order' })
  order?: unknown;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'integer' })
  planId: number;

  @ManyToOne(() => MembershipPlan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'FK_membership_grants_plan' })
  plan?: MembershipPlan;

  @Column({ type: 'varchar', length: 16 })
  kind: GrantKind;

  /** The level the days are granted at (an upgrade: the level it converts to). */
  @Column({ type: 'integer' })
  level: number;

  /** add / opening: the days brought, in milliseconds. */
  @Column({ type: 'bigint', default: 0 })
  durationMs: string;

  /** When the days were granted; the ledger replays grants in this order. */
  @Column({ type: 'timestamptz' })
  grantedAt: Date;

  @Column({ type: 'integer', nullable: true })
  upgradeFromLevel: number | null;

  /** The days of upgrade_from_level the upgrade was priced on, in milliseconds. */
  @Column({ type: 'bigint', nullable: true })
  upgradeQuotedMs: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  upgradeQuotedAt: Date | null;

  /** What the ledger last converted for this upgrade; the rest of upgrade_quoted_ms was missing. */
  @Column({ type: 'bigint', nullable: true })
  convertedMs: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  /**
   * Taken back by partial refunds: of the days (`add`) or of the converted time (`upgrade`), in
   * proportion to the fen refunded, so the days held are never worth more than what is left paid.
   */
  @Column({ type: 'bigint', default: 0 })
  withdrawnMs: string;

  /** The fen of the order's price that support's refunds took back together with withdrawn_ms. */
  @Column({ type: 'integer', default: 0 })
  withdrawnFen: number;

  /**
   * An upgrade's shortfall so far, in fen: what it was paid for its time (less withdrawn_fen) minus
   * what the time it converts is worth, each span at its own daily difference, rounded down.
   */
  @Column({ type: 'integer', default: 0 })
  shortfallFen: number;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
