import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { MembershipGrant } from './membership-grant.entity';
import { MembershipPlan } from './membership-plan.entity';

/**
 * A span of time at one level, bought by one order: the member's ledger, rebuilt from the standing
 * grants in the transaction that changes them. What a member holds at any moment is read from here.
 */
@Entity('membership_periods')
@Index('IDX_membership_periods_user', ['userId', 'endsAt'])
@Index('IDX_membership_periods_grant', ['grantId'])
@Check('CHK_membership_periods_span', '"ends_at" > "starts_at"')
export class MembershipPeriod {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_membership_periods' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'uuid' })
  grantId: string;

  @ManyToOne(() => MembershipGrant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'grant_id', foreignKeyConstraintName: 'FK_membership_periods_grant' })
  grant?: MembershipGrant;

  @Column({ type: 'uuid', nullable: true })
  orderId: string | null;

  // The order is named, not imported: orders sit above this module and depend on it.
  @ManyToOne('Order', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_membership_periods_order' })
  order?: unknown;

  @Column({ type: 'integer' })
  planId: number;

  @ManyToOne(() => MembershipPlan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'FK_membership_periods_plan' })
  plan?: MembershipPlan;

  @Column({ type: 'integer' })
  level: number;

  @Column({ type: 'timestamptz' })
  startsAt: Date;

  @Column({ type: 'timestamptz' })
  endsAt: Date;
}
