import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PaymentsService } from '../payments/payments.service';
import { PaymentRecordsRepository } from '../payments/payment-records.repository';
import { leaseUntil } from '../common/jobs/claim-lease';
import { BATCH_SIZE, type JobReport, type ScheduledJob } from '../common/jobs/job-report';
import { logAttemptFailure } from '../payments/attempt-failure';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

/** How many pages of expired orders one run looks through for those ready to expire. */
const READY_PAGES = 5;

/**
 * Expires pending orders past expire_at (ORDER_EXPIRE_MINUTES). Each open attempt is closed at
 * its provider first; when the provider says the buyer paid after all, the order is settled
 * instead, so an order that was paid is never expired. Only an order left without an open
 * attempt becomes `expired`, with its `order.expired` event.
 */
@Injectable()
export class ExpireOrdersJob implements ScheduledJob {
  private readonly logger = new Logger('ExpireOrders');

  constructor(
    private readonly config: AppConfig,
    private readonly claims: PaymentRecordsRepository,
    private readonly payments: PaymentsService,
    private readonly orders: OrdersService,
    private readonly orderRecords: OrdersRepository,
  ) {}

  async run(now: Date, limit = BATCH_SIZE): Promise<JobReport> {
    const attempts = await this.claims.claimAttemptsOfExpiredOrders(now, limit, leaseUntil(now, this.config, limit));
    const report = { claimed: attempts.length, paid: 0, closed: 0, deferred: 0, expired: 0, failed: 0 };
    for (const attempt of attempts) {
      try {
        report[await this.payments.closeAttempt(attempt.method, attempt.paymentNo, now)] += 1;
      } catch (e) {
        report.failed += 1;
        logAttemptFailure(this.logger, 'closing expired order attempt', attempt.paymentNo, e);
        await this.claims.release(attempt.id, now);
      }
    }
    for (const orderId of await this.readyToExpire(now, limit)) {
      if (await this.orders.end(orderId, 'expired', now)) report.expired += 1;
    }
    return report;
  }

  /**
   * Up to `limit` pending orders past expire_at with no attempt left open. Orders whose close failed
   * keep their attempt open; paging past them (a few pages at most) keeps them from holding up the rest.
   */
  private async readyToExpire(now: Date, limit: number): Promise<string[]> {
    const ready: string[] = [];
    let after: { expireAt: Date; id: string } | undefined;
    for (let page = 0; page < READY_PAGES && ready.length < limit; page += 1) {
      const due = await this.orderRecords.pastExpiry(now, limit, after);
      const open = await this.claims.withOpenAttempts(due.map((o) => o.id));
      ready.push(...due.filter((o) => !open.has(o.id)).map((o) => o.id));
      if (due.length < limit) break;
      after = due[due.length - 1];
    }
    return ready.slice(0, limit);
  }
}
