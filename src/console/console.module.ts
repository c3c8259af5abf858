import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { ConsoleController } from './console.controller';
import { SupportController } from './support.controller';
import { SupportRepository } from './support.repository';
import { SupportService } from './support.service';

/**
 * The support and finance console: the page at /admin/ (served by serveConsolePage), its two public
 * routes, and the read model behind its search, order story, member view, audit log and export.
 * Its actions (refunds, resolving, re-running a day) are the refunds' and reconciliation's own
 * admin routes, which record themselves in the audit log.
 */
@Module({
  imports: [AuditModule],
  controllers: [ConsoleController, SupportController],
  providers: [SupportRepository, SupportService],
})
export class ConsoleModule {}
