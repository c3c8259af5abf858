import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller';

/**
 * The support and finance console: the page at /admin/ (served by serveConsolePage) and the two
 * public routes it needs before it signs in. Everything it shows comes from the admin API: the
 * read model in src/support, and the refunds' and reconciliation's own admin routes, which record
 * themselves in the audit log.
 */
@Module({
  controllers: [ConsoleController],
})
export class ConsoleModule {}
