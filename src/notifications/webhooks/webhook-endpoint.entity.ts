import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A receiver registered by an admin: where to post, which event types, and the secrets that sign. */
@Entity('webhook_endpoints')
export class WebhookEndpoint {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_webhook_endpoints' })
  id: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  @Column({ type: 'text', array: true })
  events: string[];

  @Column({ type: 'varchar', length: 500, default: '' })
  description: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** The whole `whsec_…` string is the HMAC key, as receivers hold it. */
  @Column({ type: 'varchar', length: 100 })
  secret: string;

  /** The secret before the last rotation: it still signs, beside the new one, until it expires. */
  @Column({ type: 'varchar', length: 100, nullable: true })
  previousSecret: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  /** The first failed attempt since the last success (null: the last attempt succeeded, or none yet). */
  @Column({ type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  /** Why the service disabled it (null when an admin did, or when enabled). */
  @Column({ type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt: Date;
}
