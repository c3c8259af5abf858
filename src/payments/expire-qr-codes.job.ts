import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PaymentsService } from './payments.service';
import { PaymentRecordsRepository } from './payment-records.repository';
import { leaseUntil } from '../common/jobs/claim-lease';
import { BATCH_SIZE, type JobReport, type ScheduledJob } from '../common/jobs/job-report';
import { logAttemptFailure } from './attempt-failure';

/**
 * Closes attempts whose QR code expired (QR_CODE_EXPIRE_MINUTES) at their provider; a payment
 * that got in first is settled instead. The order stays pending: until it expires itself, the
 * member gets a fresh code with POST /orders/:order_no/qr-code.
 */
@Injectable()
export class ExpireQrCodesJob implements ScheduledJob {
  private readonly logger = new Logger('ExpireQrCodes');

  constructor(
    private readonly config: AppConfig,
    private readonly claims: PaymentRecordsRepository,
    private readonly payments: PaymentsService,
  ) {}

  async run(now: Date, limit = BATCH_SIZE): Promise<JobReport> {
    const attempts = await this.claims.claimExpiredQrCodes(now, limit, leaseUntil(now, this.config, limit));
    const report = { claimed: attempts.length, paid: 0, closed: 0, deferred: 0, failed: 0 };
    for (const attempt of attempts) {
      try {
        report[await this.payments.closeAttempt(attempt.method, attempt.paymentNo, now)] += 1;
      } catch (e) {
        report.failed += 1;
        logAttemptFailure(this.logger, 'closing expired QR code', attempt.paymentNo, e);
        await this.claims.release(attempt.id, now);
      }
    }
    return report;
  }
}
