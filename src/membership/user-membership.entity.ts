import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';
import { MembershipPlan } from './membership-plan.entity';

@Entity('user_memberships')
@Unique('UQ_user_memberships_user_id', ['userId'])
export class UserMembership {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_user_memberships' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'integer' })
  planId: number;

  @ManyToOne(() => MembershipPlan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'FK_user_memberships_plan' })
  plan?: MembershipPlan;

  @Column({ type: 'integer' })
  level: number;

  @Column({ type: 'timestamptz' })
  startedAt: Date;

  @Column({ type: 'timestamptz' })
  expiresAt: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
