import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaymentsModule } from '../payments/payments.module';
import { RefundsModule } from '../refunds/refunds.module';
import { ReconcileBillsJob } from './reconcile-bills.job';
import { ReconciliationItem } from './reconciliation-item.entity';
import { ReconciliationRun } from './reconciliation-run.entity';
import { ReconciliationAdminController } from './reconciliation-admin.controller';
import { ReconciliationAdminService } from './reconciliation-admin.service';
import { ReconciliationMetrics } from './reconciliation.metrics';
import { ReconciliationRepository } from './reconciliation.repository';
import { ReconciliationService } from './reconciliation.service';

/** The daily bills against our books, and support's view of them; owns reconciliation_runs and reconciliation_items. */
@Module({
  imports: [TypeOrmModule.forFeature([ReconciliationRun, ReconciliationItem]), PaymentsModule, RefundsModule],
  controllers: [ReconciliationAdminController],
  providers: [ReconciliationRepository, ReconciliationService, ReconciliationMetrics, ReconciliationAdminService, ReconcileBillsJob],
  exports: [ReconciliationService, ReconcileBillsJob],
})
export class ReconciliationModule {}
