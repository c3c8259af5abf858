import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { Order } from '../orders/order.entity';
import { MembershipPlan } from './membership-plan.entity';

/** One row per order that granted or changed a membership; the unique order_id makes a grant happen once. */
@Entity('membership_grants')
@Unique('UQ_membership_grants_order_id', ['orderId'])
@Index('IDX_membership_grants_user', ['userId'])
export class MembershipGrant {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_membership_grants' })
  id: string;

  @Column({ type: 'uuid' })
  orderId: string;

  @ManyToOne(() => Order, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'order_id', foreignKeyConstraintName: 'FK_membership_grants_order' })
  order?: Order;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'integer' })
  planId: number;

  @ManyToOne(() => MembershipPlan, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'plan_id', foreignKeyConstraintName: 'FK_membership_grants_plan' })
  plan?: MembershipPlan;

  @Column({ type: 'integer', nullable: true })
  previousLevel: number | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousExpiresAt: Date | null;

  @Column({ type: 'integer' })
  newLevel: number;

  @Column({ type: 'timestamptz' })
  newExpiresAt: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
