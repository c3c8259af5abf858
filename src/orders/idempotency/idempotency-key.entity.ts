import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/** A create-order request remembered for 24 hours under its Idempotency-Key. */
@Entity('idempotency_keys')
@Unique('UQ_idempotency_keys_user_key', ['userId', 'key'])
@Index('IDX_idempotency_keys_created', ['createdAt'])
@Check('CHK_idempotency_keys_status', `"status" IN ('in_flight', 'done')`)
export class IdempotencyKey {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_idempotency_keys' })
  id: string;

  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'varchar', length: 255 })
  key: string;

  /** sha256 of the canonical request body: the same key with another body is refused. */
  @Column({ type: 'varchar', length: 64 })
  requestHash: string;

  @Column({ type: 'varchar', length: 16 })
  status: 'in_flight' | 'done';

  @Column({ type: 'integer', nullable: true })
  responseStatus: number | null;

  /** The answer's body exactly as sent (JSON text), replayed byte for byte. */
  @Column({ type: 'text', nullable: true })
  responseBody: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
