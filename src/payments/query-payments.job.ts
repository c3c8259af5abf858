import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { PaymentEvent } from './payment-provider';
import { PaymentsService } from './payments.service';
import { ProviderRegistry } from './provider-registry';
import { PaymentRecordsRepository } from './payment-records.repository';
import { leaseUntil } from '../common/jobs/claim-lease';
import { BATCH_SIZE, type JobReport, type ScheduledJob } from '../common/jobs/job-report';
import { logAttemptFailure } from './attempt-failure';

/**
 * The active query: a pending attempt whose notification has not come is queried at its
 * provider 1, 2, 4, 8, 16 … minutes after it was opened, at most PAYMENT_QUERY_RETRY_MAX times.
 * The answer goes through PaymentsService.applyEvent, the path notifications take, so a query
 * racing a notification still settles once.
 */
@Injectable()
export class QueryPaymentsJob implements ScheduledJob {
  private readonly logger = new Logger('QueryPayments');

  constructor(
    private readonly config: AppConfig,
    private readonly claims: PaymentRecordsRepository,
    private readonly registry: ProviderRegistry,
    private readonly payments: PaymentsService,
  ) {}

  async run(now: Date, limit = BATCH_SIZE): Promise<JobReport> {
    const retryMax = this.config.paymentQueryRetryMax;
    const attempts = await this.claims.claimDueQueries(now, limit, retryMax, leaseUntil(now, this.config, limit));
    const report = { claimed: attempts.length, paid: 0, closed: 0, pending: 0, failed: 0 };
    for (const attempt of attempts) {
      let event: PaymentEvent;
      try {
        event = await this.registry.get(attempt.method).query(attempt.paymentNo);
      } catch (e) {
        report.failed += 1;
        logAttemptFailure(this.logger, 'querying', attempt.paymentNo, e);
        await this.claims.release(attempt.id, now);
        continue;
      }
      await this.claims.recordQuery(attempt.id, retryMax);
      try {
        const applied = await this.payments.applyEvent(event, 'query');
        if (applied.result === 'settled')
          this.logger.log(`payment ${attempt.paymentNo} of order ${applied.orderNo} settled by the active query`);
        report[event.outcome === 'paid' || event.outcome === 'closed' ? event.outcome : 'pending'] += 1;
      } catch (e) {
        // The query is counted and the next one scheduled; a rejected answer (an amount mismatch) is logged there.
        report.failed += 1;
        logAttemptFailure(this.logger, 'settling queried payment', attempt.paymentNo, e);
      }
    }
    return report;
  }
}
