import { Injectable } from '@nestjs/common';
import { addDays, beijingDayOf, beijingTimeOn } from '../common/beijing-day';
import { AppConfig } from '../config/app-config';
import { PAYMENT_METHODS } from '../orders/order-status';
import { ProviderRegistry } from '../payments/provider-registry';
import { ReconciliationService } from './reconciliation.service';
import type { JobReport, ScheduledJob } from '../common/jobs/job-report';

/** Days behind yesterday still taken up when not reconciled yet (a service down, a bill late). */
const CATCH_UP_DAYS = 2;

/**
 * Reconciles each configured provider's bill of the day before, from RECONCILIATION_AT Beijing
 * time on (the providers publish day D's bill on D+1 from about 10:00), and the days before it
 * that are not reconciled yet. Every instance runs it; the day's row in reconciliation_runs is
 * claimed in one statement, so one instance does it. A bill not ready, or refused, is tried again
 * half an hour later; a reconciled day is left alone (ops re-run one with `npm run reconcile`).
 */
@Injectable()
export class ReconcileBillsJob implements ScheduledJob {
  constructor(
    private readonly config: AppConfig,
    private readonly registry: ProviderRegistry,
    private readonly reconciliation: ReconciliationService,
  ) {}

  async run(now: Date): Promise<JobReport> {
    const today = beijingDayOf(now);
    const yesterday = addDays(today, -1);
    const days = [...(now >= beijingTimeOn(today, this.config.reconciliationAt) ? [yesterday] : [])];
    for (let back = 1; back <= CATCH_UP_DAYS; back++) days.push(addDays(yesterday, -back));
    const report = { claimed: 0, failed: 0, completed: 0, not_ready: 0 };
    for (const provider of PAYMENT_METHODS.filter((name) => this.registry.bills(name))) {
      for (const day of days) {
        const result = await this.reconciliation.reconcile(provider, day, { now });
        if (result.status === 'skipped') continue;
        report.claimed += 1;
        report[result.status] += 1;
      }
    }
    return report;
  }
}
