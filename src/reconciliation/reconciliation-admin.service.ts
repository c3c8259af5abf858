import { Injectable, Logger } from '@nestjs/common';
import { addDays, beijingDayOf, isCalendarDay } from '../common/beijing-day';
import { DomainError, NotFoundError } from '../common/errors/domain-error';
import type { Outcome } from './reconciliation-item.entity';
import { ReconciliationMetrics } from './reconciliation.metrics';
import { ReconciliationRepository } from './reconciliation.repository';
import { ItemList, ItemView, itemView, RunList, runView } from './reconciliation.views';

/** A year of days at most per listing: enough for any audit, bounded for the database. */
const MAX_DAYS = 366;

/** What support reads and does about reconciled days. */
@Injectable()
export class ReconciliationAdminService {
  private readonly logger = new Logger('Reconciliation');

  constructor(
    private readonly repository: ReconciliationRepository,
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

  async resolve(itemId: string, note: string, adminId: string, now = new Date()): Promise<ItemView> {
    const item = await this.repository.resolveItem(itemId, note, adminId, now);
    if (!item) throw new NotFoundError('NOT_FOUND', 'No reconciliation item has this id');
    this.logger.log(`reconciliation item ${item.id} (${item.outcome} ${item.kind} ${item.reference}) resolved by ${adminId}`);
    await this.metrics.refresh(); // the open items gauge
    return itemView(item);
  }
}
