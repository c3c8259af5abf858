import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { formatReport, type ScheduledJob } from '../common/jobs/job-report';
import { ExpireOrdersJob } from '../orders/expire-orders.job';
import { ExpireQrCodesJob } from '../payments/expire-qr-codes.job';
import { QueryPaymentsJob } from '../payments/query-payments.job';
import { ReconcileBillsJob } from '../reconciliation/reconcile-bills.job';
import { ProcessRefundsJob } from '../refunds/process-refunds.job';
import { RenewalJob } from '../subscriptions/renewal.job';

/** Every how often each job runs on each instance; claims keep instances off each other's rows. */
export const JOB_INTERVALS_MS = {
  'query-payments': 15_000,
  'expire-qr-codes': 30_000,
  'expire-orders': 30_000,
  'process-refunds': 15_000,
  // Cheap when there is nothing to do: one read per provider and day.
  'reconcile-bills': 60_000,
  // Replaced by RENEWAL_JOB_MINUTES (see intervalOf).
  renewals: 600_000,
} as const;

type JobName = keyof typeof JOB_INTERVALS_MS;

/**
 * Puts the jobs on a schedule (@nestjs/schedule). The jobs themselves know nothing of it, and
 * tests (NODE_ENV=test) call them with their own clock instead. A run of a job never overlaps
 * the previous one on this instance; a failing run is logged, and the next tick tries again.
 */
@Injectable()
export class SchedulingCron implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Scheduling');
  private readonly jobs: Record<JobName, ScheduledJob>;
  private readonly running = new Map<JobName, Promise<void>>();

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: MetricsService,
    queryPayments: QueryPaymentsJob,
    expireQrCodes: ExpireQrCodesJob,
    expireOrders: ExpireOrdersJob,
    processRefunds: ProcessRefundsJob,
    reconcileBills: ReconcileBillsJob,
    renewals: RenewalJob,
  ) {
    this.jobs = {
      'query-payments': queryPayments,
      'expire-qr-codes': expireQrCodes,
      'expire-orders': expireOrders,
      'process-refunds': processRefunds,
      'reconcile-bills': reconcileBills,
      renewals,
    };
  }

  onApplicationBootstrap(): void {
    if (this.config.nodeEnv === 'test') return;
    for (const name of Object.keys(this.jobs) as JobName[]) {
      this.scheduler.addInterval(
        name,
        setInterval(() => void this.tick(name), this.intervalOf(name)),
      );
    }
  }

  /** The renewal job's interval is configured (RENEWAL_JOB_MINUTES); the others are fixed. */
  private intervalOf(name: JobName): number {
    return name === 'renewals' ? this.config.renewalJobMinutes * 60_000 : JOB_INTERVALS_MS[name];
  }

  /** One run of a job, unless its previous run is still going; never throws. */
  tick(name: JobName): Promise<void> {
    const current = this.running.get(name);
    if (current) return current;
    const started = Date.now();
    const run = this.jobs[name]
      .run(new Date())
      .then(
        (report) => {
          this.metrics.jobRuns.inc({ job: name, outcome: 'ok' });
          const line = `${name}: ${formatReport(report)} in ${Date.now() - started} ms`;
          if (report.claimed || report.expired) this.logger.log(line);
          else this.logger.debug(line);
        },
        (e) => {
          this.metrics.jobRuns.inc({ job: name, outcome: 'failed' });
          this.logger.error(`${name} failed: ${(e as Error)?.message ?? e}; retried on the next tick`);
        },
      )
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  /** Stops the schedule and lets runs in flight finish while the database is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    for (const name of this.scheduler.getIntervals()) {
      if (name in this.jobs) this.scheduler.deleteInterval(name);
    }
    await Promise.all(this.running.values());
  }
}
