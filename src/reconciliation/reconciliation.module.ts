import { Module } from '@nestjs/common';
import { PaymentsModule } from '../payments/payments.module';
import { ReconciliationMetrics } from './reconciliation.metrics';
import { ReconciliationRepository } from './reconciliation.repository';
import { ReconciliationService } from './reconciliation.service';

/** The daily bills against our books; owns reconciliation_runs and reconciliation_items. */
@Module({
  imports: [PaymentsModule],
  providers: [ReconciliationRepository, ReconciliationService, ReconciliationMetrics],
  exports: [ReconciliationService],
})
export class ReconciliationModule {}
