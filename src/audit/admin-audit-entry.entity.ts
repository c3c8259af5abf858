import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One admin action (a refund, a resolved discrepancy, a re-run day, an export): who, when, what,
 * from which address and why. Written in the transaction of the action itself, so an action that
 * committed is always in the log and a rolled-back one never is. Append-only: no route edits it,
 * and a trigger refuses UPDATE and DELETE.
 */
@Entity('admin_audit_log')
@Index('IDX_admin_audit_log_created', ['createdAt'])
@Index('IDX_admin_audit_log_target', ['targetType', 'target'])
export class AdminAuditEntry {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'PK_admin_audit_log' })
  id: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  /** The admin's `sub`. */
  @Column({ type: 'varchar', length: 64 })
  actor: string;

  @Column({ type: 'varchar', length: 48 })
  action: string;

  @Column({ type: 'varchar', length: 24 })
  targetType: string;

  /** The order_no, refund_no, item id, `provider day` or range the action was about. */
  @Column({ type: 'varchar', length: 128 })
  target: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  /** The client's address as Express sees it under TRUST_PROXY. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  clientAddress: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  detail: Record<string, unknown> | null;
}
