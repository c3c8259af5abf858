import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { leaseUntil } from '../common/jobs/claim-lease';
import { BATCH_SIZE, type JobReport, type ScheduledJob } from '../common/jobs/job-report';
import { logAttemptFailure } from '../payments/attempt-failure';
import { AgreementDeductions } from '../payments/agreement-deductions.service';
import { ContractsRepository } from './contracts.repository';
import { RenewalsRepository } from './renewals.repository';
import { emptyTally, RenewalsService, type RenewalTally } from './renewals.service';
import { SubscriptionsService } from './subscriptions.service';

/** Contracts worked on at once within a batch: each waits on its provider, so a few run side by side. */
const CONCURRENCY = 8;
/** Batches one run takes at most: a run never holds on forever, the next run takes the rest. */
const MAX_BATCHES = 500;
/**
 * How long a signing may go unconfirmed before the sweep asks the provider: the notification normally
 * comes within seconds, and a member still on the signing page is left to finish.
 */
const UNCONFIRMED_AFTER_MS = 5 * 60_000;

/**
 * The renewal job (every RENEWAL_JOB_MINUTES, and `npm run renewals`): first the signings left
 * unconfirmed (a signing notification that never came, a first period whose charge never started: see
 * SubscriptionsService.sweepSigning), then the deductions whose result
 * has not come (queried at their provider, settled through the one path), then the due contracts, claimed
 * a batch at a time with FOR UPDATE SKIP LOCKED and a lease (see RenewalsRepository), each taken as far as
 * `now` allows. Any number of instances may run it at once.
 */
@Injectable()
export class RenewalJob implements ScheduledJob {
  private readonly logger = new Logger('RenewalJob');

  constructor(
    private readonly config: AppConfig,
    private readonly renewals: RenewalsService,
    private readonly repo: RenewalsRepository,
    private readonly deductions: AgreementDeductions,
    private readonly contracts: ContractsRepository,
    private readonly subscriptions: SubscriptionsService,
  ) {}

  async run(now: Date, limit = BATCH_SIZE): Promise<JobReport> {
    const tally = emptyTally();
    await this.sweepSignings(now, limit, tally);
    await this.queryDeductions(now, limit, tally);
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const claimed = await this.repo.claimDue(now, limit, leaseUntil(now, this.config, limit));
      tally.claimed += claimed.length;
      await inPool(claimed, CONCURRENCY, async (c) => {
        try {
          await this.renewals.runContract(c, now, tally);
        } catch (e) {
          // The claim's lease keeps the contract away until it ends; then the next run tries again.
          tally.failed += 1;
          this.logger.error(`contract ${c.contract_no}: ${(e as Error)?.message ?? e}; tried again when its claim lapses`);
        }
      });
      if (claimed.length < limit) break;
    }
    await this.renewals.refreshGauges(now).catch((e: Error) => this.logger.warn(`renewal gauges not refreshed: ${e.message}`));
    return tally as RenewalTally & JobReport;
  }

  private async sweepSignings(now: Date, limit: number, tally: RenewalTally): Promise<void> {
    const olderThan = new Date(now.getTime() - UNCONFIRMED_AFTER_MS);
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const claimed = await this.contracts.claimUnconfirmed(now, olderThan, limit, leaseUntil(now, this.config, limit));
      await inPool(claimed, CONCURRENCY, async (c) => {
        try {
          const { done, lookAgainAt } = await this.subscriptions.sweepSigning(c, now);
          if (done === 'activated') tally.confirmed += 1;
          if (done === 'released') tally.released += 1;
          if (done === 'charged') tally.firstPeriods += 1;
          await this.contracts.setNextRun(c.id, lookAgainAt);
        } catch (e) {
          // The claim's lease keeps the contract away until it ends; then the next run asks again.
          tally.failed += 1;
          this.logger.error(
            `contract ${c.contract_no}: its signing not confirmed (${(e as Error)?.message ?? e}); asked again when its claim lapses`,
          );
        }
      });
      if (claimed.length < limit) break;
    }
  }

  private async queryDeductions(now: Date, limit: number, tally: RenewalTally): Promise<void> {
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const due = await this.deductions.claimDue(now, limit, leaseUntil(now, this.config, limit));
      await inPool(due, CONCURRENCY, async (d) => {
        try {
          tally.queried += 1;
          await this.deductions.query(d.method, d.paymentNo);
        } catch (e) {
          tally.failed += 1;
          logAttemptFailure(this.logger, 'querying deduction', d.paymentNo, e);
        }
      });
      if (due.length < limit) break;
    }
  }
}

/** Runs `work` over `items`, at most `width` at a time. */
async function inPool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(lanes);
}
