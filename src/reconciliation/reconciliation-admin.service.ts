import { Injectable, Logger } from '@nestjs/common';
import type { AdminCaller } from '../audit/audit-log';
import { appendAuditEntry } from '../audit/audit-log.repository';
import type { ProviderName } from '../payments/provider-name';
import { addDays, beijingDayOf, isCalendarDay } from '../common/beijing-day';
import { DomainError, NotFoundError } from '../common/errors/domain-error';
import type { Outcome } from './reconciliation-item.entity';
import { ReconciliationMetrics } from './reconciliation.metrics';
import { ReconciliationRepository } from './reconciliation.repository';
import { ReconciliationService } from './reconciliation.service';
import { ItemList, ItemView, itemView, RerunView, RunList, runView } from './reconciliation.views';

/** A year of days at most per listing: enough for any audit, bounded for the database. */
const MAX_DAYS = 366;

/** What support reads and does about reconciled days. */
@Injectable()
export class ReconciliationAdminService {
  private readonly logger = new Logger('Reconciliation');

  constructor(
    private readonly repository: ReconciliationRepository,
    private readonly reconciliation: ReconciliationService,
    private readonly metrics: ReconciliationMetrics,
  ) {}

  async listRuns(from: string | undefined, to: string | undefined, now = new Date()): Promise<RunList> {
    const last = to ?? beijingDayOf(now);
    const first = from ?? addDays(last, -30);
    const bad = [!isCalendarDay(first) && 'from must be a calendar day', !isCalendarDay(last) && 'to must be a calendar day'].filter(
      Boolean,
    ) as string[];
    if (bad.length) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', bad);
    if (first > last) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['from must not be after to']);
    if (addDays(first, MAX_DAYS) < last)
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [`from and to may be at most ${MAX_DAYS} days apart`]);
    return { data: (await this.repository.listRuns(first, last)).map(runView) };
  }

  async listItems(runId: string, outcome?: Outcome): Promise<ItemList> {
    if (!(await this.repository.getRun(runId))) throw new NotFoundError('NOT_FOUND', 'No reconciliation run has this id');
    return { data: (await this.repository.listItems(runId, outcome)).map(itemView) };
  }

  async resolve(itemId: string, note: string, caller: AdminCaller, now = new Date()): Promise<ItemView> {
    const adminId = caller.actor;
    const item = await this.repository.resolveItem(itemId, note, adminId, now, (m, resolved) =>
      appendAuditEntry(m, {
        ...caller,
        action: 'reconciliation.item_resolved',
        targetType: 'reconciliation_item',
        target: resolved.id,
        reason: note,
        detail: { outcome: resolved.outcome, kind: resolved.kind, reference: resolved.reference, payment_no: resolved.paymentNo },
      }),
    );
    if (!item) throw new NotFoundError('NOT_FOUND', 'No reconciliation item has this id');
    this.logger.log(`reconciliation item ${item.id} (${item.outcome} ${item.kind} ${item.reference}) resolved by ${adminId}`);
    await this.metrics.refresh(); // the open items gauge
    return itemView(item);
  }

  /**
   * Reconciles a day again now (support re-running it after fixing something), replacing its earlier
   * result; the admin's request is recorded with the claim of the day. A day another caller is
   * reconciling at this moment is `skipped`, and nothing is recorded.
   */
  async rerun(provider: ProviderName, day: string, reason: string, caller: AdminCaller, now = new Date()): Promise<RerunView> {
    if (!isCalendarDay(day)) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['bill_date must be a calendar day']);
    if (day > beijingDayOf(now))
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['bill_date must not be in the future']);
    const result = await this.reconciliation.reconcile(provider, day, {
      now,
      force: true,
      inTransaction: (m, run) =>
        appendAuditEntry(m, {
          ...caller,
          action: 'reconciliation.day_rerun',
          targetType: 'reconciliation_day',
          target: `${provider} ${day}`,
          reason,
          detail: { run_id: run.id, provider, bill_date: day },
        }),
    });
    this.logger.log(`reconciliation of ${provider} ${day} re-run by ${caller.actor}: ${result.status}`);
    return {
      status: result.status,
      reason: 'reason' in result ? result.reason : null,
      run: result.run ? runView(result.run) : null,
    };
  }
}
