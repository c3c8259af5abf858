import { Injectable, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';
import { OUTCOMES } from './reconciliation-item.entity';
import { RUN_STATUSES } from './reconciliation-run.entity';
import { ReconciliationRepository, RunRow } from './reconciliation.repository';

/**
 * How often an instance reads the latest runs for the gauges, so that a day another instance (or
 * the CLI) reconciled shows here too.
 */
const REFRESH_MS = 30_000;

/**
 * memberpay_reconciliation_items{provider,outcome}: the items of each provider's latest reconciled
 * day; memberpay_reconciliation_open_items{provider}: those nobody resolved; and
 * memberpay_reconciliation_last_run{provider,status}: 1 for the status of each provider's latest
 * bill day (completed, not_ready, failed, running). Read from the database (so every instance
 * reports the same, whichever instance or the CLI ran) at start, after each run and resolution
 * here, and every 30 s; never by a scrape: a scrape answers from memory, so however often /metrics
 * is fetched it costs the database nothing, and it answers while the database does not.
 */
@Injectable()
export class ReconciliationMetrics implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private runs?: Counter<'provider' | 'status'>;
  private latest: { counts: RunRow[]; runs: RunRow[] } | null = null;
  private reads: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly metrics: MetricsService,
    private readonly repository: ReconciliationRepository,
  ) {}

  onModuleInit(): void {
    const registry = this.metrics.registry;
    if (registry.getSingleMetric('memberpay_reconciliation_items')) return;
    const latest = () => this.latest;
    new Gauge({
      name: 'memberpay_reconciliation_items',
      help: "Items of each provider's latest reconciled day, by outcome",
      labelNames: ['provider', 'outcome'],
      registers: [registry],
      collect() {
        const now = latest();
        if (!now) return;
        this.reset();
        for (const run of now.counts) {
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
      collect() {
        const now = latest();
        if (!now) return;
        this.reset();
        for (const run of now.counts) this.set({ provider: run.provider }, run.openItems);
      },
    });
    new Gauge({
      name: 'memberpay_reconciliation_last_run',
      help: "1 for the status of each provider's latest bill day (completed, not_ready, failed, running)",
      labelNames: ['provider', 'status'],
      registers: [registry],
      collect() {
        const now = latest();
        if (!now) return;
        this.reset();
        for (const run of now.runs)
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

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /**
   * Reads the latest runs for the gauges, each read after the one before (a read asked for after a
   * change sees it). The database down: the last values stay, the next refresh tries again.
   */
  refresh(): Promise<void> {
    this.reads = this.reads.then(async () => {
      try {
        const [counts, runs] = await Promise.all([this.repository.latestCounts(), this.repository.latestRuns()]);
        this.latest = { counts, runs };
      } catch {
        // kept as they were
      }
    });
    return this.reads;
  }

  async recordRun(provider: string, status: 'completed' | 'not_ready' | 'failed'): Promise<void> {
    this.runs?.inc({ provider, status });
    await this.refresh();
  }
}
