import { Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { OUTCOMES } from './reconciliation-item.entity';
import { RUN_STATUSES } from './reconciliation-run.entity';
import { ReconciliationRepository } from './reconciliation.repository';

/**
 * memberpay_reconciliation_items{provider,outcome}: the items of each provider's latest reconciled
 * day; memberpay_reconciliation_open_items{provider}: those nobody resolved; and
 * memberpay_reconciliation_last_run{provider,status}: 1 for the status of each provider's latest
 * bill day (completed, not_ready, failed, running). Read from the database when scraped, so every
 * instance reports the same, whichever instance (or the CLI) ran.
 */
@Injectable()
export class ReconciliationMetrics implements OnModuleInit {
  private runs?: Counter<'provider' | 'status'>;

  constructor(
    private readonly metrics: MetricsService,
    private readonly repository: ReconciliationRepository,
  ) {}

  onModuleInit(): void {
    const registry = this.metrics.registry;
    const repository = this.repository;
    if (registry.getSingleMetric('memberpay_reconciliation_items')) return;
    const latest = async () => {
      try {
        return await repository.latestCounts();
      } catch {
        return null; // the database is down: keep the last values rather than fail the scrape
      }
    };
    new Gauge({
      name: 'memberpay_reconciliation_items',
      help: "Items of each provider's latest reconciled day, by outcome",
      labelNames: ['provider', 'outcome'],
      registers: [registry],
      async collect() {
        const runs = await latest();
        if (!runs) return;
        this.reset();
        for (const run of runs) {
          const counts = {
            matched: run.matched,
            missing_locally: run.missingLocally,
            missing_at_provider: run.missingAtProvider,
            amount_mismatch: run.amountMismatch,
            status_mismatch: run.statusMismatch,
          };
          for (const outcome of OUTCOMES) this.set({ provider: run.provider, outcome }, counts[outcome]);
        }
      },
    });
    new Gauge({
      name: 'memberpay_reconciliation_open_items',
      help: "Discrepancies of each provider's latest reconciled day that nobody resolved",
      labelNames: ['provider'],
      registers: [registry],
      async collect() {
        const runs = await latest();
        if (!runs) return;
        this.reset();
        for (const run of runs) this.set({ provider: run.provider }, run.openItems);
      },
    });
    new Gauge({
      name: 'memberpay_reconciliation_last_run',
      help: "1 for the status of each provider's latest bill day (completed, not_ready, failed, running)",
      labelNames: ['provider', 'status'],
      registers: [registry],
      async collect() {
        let runs: Awaited<ReturnType<ReconciliationRepository['latestRuns']>>;
        try {
          runs = await repository.latestRuns();
        } catch {
          return;
        }
        this.reset();
        for (const run of runs)
          for (const status of RUN_STATUSES) this.set({ provider: run.provider, status }, run.status === status ? 1 : 0);
      },
    });
    this.runs = new Counter({
      name: 'memberpay_reconciliation_runs_total',
      help: 'Reconciliation attempts, by provider and how they ended (completed, not_ready, failed)',
      labelNames: ['provider', 'status'],
      registers: [registry],
    });
  }

  recordRun(provider: string, status: 'completed' | 'not_ready' | 'failed'): void {
    this.runs?.inc({ provider, status });
  }
}
