import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

@Entity('membership_plans')
@Unique('UQ_membership_plans_code', ['code'])
@Check('CHK_membership_plans_price', '"price" > 0')
@Check('CHK_membership_plans_duration', '"duration_days" > 0')
export class MembershipPlan {
  @PrimaryGeneratedColumn({ type: 'integer', primaryKeyConstraintName: 'PK_membership_plans' })
  id: number;

  @Column({ type: 'varchar', length: 32 })
  code: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** The name in Chinese, what buyers read; null: `name` is shown. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  nameZh: string | null;

  @Column({ type: 'integer' })
  level: number;

  @Column({ type: 'integer' })
  durationDays: number;

  @Column({ name: 'price', type: 'integer' })
  priceFen: number;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;
}
