import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { leaseUntil } from '../common/jobs/claim-lease';
import { BATCH_SIZE, type JobReport, type ScheduledJob } from '../common/jobs/job-report';
import { RefundsRepository } from './refunds.repository';
import { OrderFulfilment } from '../orders/order-fulfilment.service';
import { RefundsService } from './refunds.service';

/** A double payment is refunded right after it settles; the job only takes those left behind (a crash in between). */
const DOUBLE_PAYMENT_GRACE_MS = 60_000;

/**
 * Finishes refunds: one left `processing` (the provider's answer was lost, or a refund that takes
 * time) or `abnormal` is queried 1, 2, 4 … 60 minutes apart until it ends; one the provider has no
 * trace of is sent again with the same refund_no. It also starts the refund of any double payment
 * that has none (the process died between settling and refunding it).
 */
@Injectable()
export class ProcessRefundsJob implements ScheduledJob {
  private readonly logger = new Logger('ProcessRefunds');

  constructor(
    private readonly config: AppConfig,
    private readonly repo: RefundsRepository,
    private readonly refunds: RefundsService,
    private readonly fulfilment: OrderFulfilment,
  ) {}

  async run(now: Date, limit = BATCH_SIZE): Promise<JobReport> {
    const report = {
      claimed: 0,
      failed: 0,
      success: 0,
      processing: 0,
      abnormal: 0,
      closed: 0,
      refused: 0,
      double_payments: 0,
      upgrade_shortfalls: 0,
    };
    for (const payment of await this.repo.unrefundedDoublePayments(new Date(now.getTime() - DOUBLE_PAYMENT_GRACE_MS), limit)) {
      try {
        if (await this.refunds.refundDoublePayment(payment.payment_no, now)) report.double_payments += 1;
      } catch (e) {
        report.failed += 1;
        this.logger.warn(
          `payment_no=${payment.payment_no}: starting the double-payment refund failed (${(e as Error).message}); retried on the next run`,
        );
      }
    }
    // Upgrades left short by a refund (or whose shortfall refund a crash did not start): reckoned and returned.
    for (const orderId of new Set([
      ...(await this.fulfilment.upgradesToReckon(limit)),
      ...(await this.fulfilment.ordersOwedShortfall(limit)),
    ])) {
      try {
        if (await this.refunds.refundUpgradeShortfall(orderId, now)) report.upgrade_shortfalls += 1;
      } catch (e) {
        report.failed += 1;
        this.logger.warn(
          `order ${orderId}: starting the upgrade-shortfall refund failed (${(e as Error).message}); retried on the next run`,
        );
      }
    }
    // Long enough for every claimed refund to be queried and sent again, each timing out.
    const claimed = await this.repo.claimDue(now, limit, leaseUntil(now, this.config, limit));
    report.claimed = claimed.length;
    for (const refund of claimed) {
      const status = await this.refunds.followUp(refund, now);
      if (status === 'error') report.failed += 1;
      else if (status === 'failed') report.refused += 1;
      else report[status] += 1;
    }
    return report;
  }
}
