import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminAuditEntry } from './admin-audit-entry.entity';
import { AuditLogRepository } from './audit-log.repository';

/**
 * The admin audit log (admin_audit_log). The modules whose routes act for an admin append to it
 * inside the transaction of the action (appendAuditEntry); the support console reads it. Like the
 * outbox it sits below its writers and knows none of them.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AdminAuditEntry])],
  providers: [AuditLogRepository],
  exports: [AuditLogRepository],
})
export class AuditModule {}
