import { Injectable, Logger } from '@nestjs/common';
import { addDays, beijingDayRange, beijingTimeOn } from '../common/beijing-day';
import { DomainError } from '../common/errors/domain-error';
import { NotificationRejected, type PaymentProvider } from '../payments/payment-provider';
import { providerLabel } from '../payments/provider-catalog';
import type { ProviderName } from '../payments/provider-name';
import { PaymentsService } from '../payments/payments.service';
import { BillRejected, type BillRow } from '../payments/provider-bill';
import { ProviderRegistry } from '../payments/provider-registry';
import { RefundsService } from '../refunds/refunds.service';
import { compareBill } from './compare-bill';
import { ReconciliationMetrics } from './reconciliation.metrics';
import { ItemDraft, ItemRow, ReconciliationRepository, RunRow } from './reconciliation.repository';

/** A claim outlives a slow bill (download, parse, a query per missing payment) by far. */
const LEASE_MS = 10 * 60_000;
/** When a day that was not ready, or failed, is tried again by the scheduled job. */
const RETRY_MS = 30 * 60_000;
/**
 * "No file for the day" means no trades, or not generated yet (both providers give one code for
 * both). While we hold payments or refunds of that day it reads as "not yet" until this Beijing
 * time of the next day (bills are out from about 09:00–10:00), then as a bill with no rows.
 */
const NO_STATEMENT_UNTIL = '12:00';

export type ReconcileResult =
  | { status: 'completed'; run: RunRow; discrepancies: ItemRow[] }
  | { status: 'not_ready' | 'failed'; run: RunRow; reason: string }
  /** Another caller holds the day, or (without force) it is reconciled already. */
  | { status: 'skipped'; run?: RunRow };

/**
 * Reconciles one provider's bill for one Beijing day against our books: every payment and refund
 * on either side becomes an item (matched, missing locally, missing at the provider, amount or
 * status mismatch). A payment the provider took that we never recorded is confirmed with the
 * active query and settled through PaymentsService, exactly as a notification would be; anything
 * else is left open for support, never fixed by guessing.
 */
@Injectable()
export class ReconciliationService {
  private readonly logger = new Logger('Reconciliation');

  constructor(
    private readonly repository: ReconciliationRepository,
    private readonly registry: ProviderRegistry,
    private readonly payments: PaymentsService,
    private readonly refunds: RefundsService,
    private readonly metrics: ReconciliationMetrics,
  ) {}

  async reconcile(providerName: ProviderName, day: string, options: { now?: Date; force?: boolean } = {}): Promise<ReconcileResult> {
    const now = options.now ?? new Date();
    const provider = this.registry.get(providerName);
    const bills = this.registry.bills(providerName);
    if (!bills) throw new DomainError('PAYMENT_METHOD_DISABLED', `${providerLabel(providerName)} has no daily bills to reconcile against`);
    if (!options.force) {
      // The scheduled job asks every minute: a done or not-yet-due day costs one read, no claim.
      const existing = await this.repository.findRun(providerName, day);
      if (
        existing &&
        (existing.status === 'completed' || (existing.status !== 'running' && existing.nextAttemptAt && existing.nextAttemptAt > now))
      ) {
        return { status: 'skipped', run: existing };
      }
    }
    const run = await this.repository.claim(providerName, day, now, new Date(now.getTime() + LEASE_MS), !!options.force);
    if (!run) return { status: 'skipped', run: await this.repository.findRun(providerName, day) };
    try {
      const { start, end } = beijingDayRange(day);
      const [dayPayments, dayRefunds] = await Promise.all([
        this.repository.paymentsPaidBetween(providerName, start, end),
        this.repository.refundsAskedBetween(providerName, start, end),
      ]);
      const fetched = await bills.fetchBill(day);
      let bill: { sha1: string | null; rows: BillRow[] };
      if (fetched.status === 'ready') bill = fetched.bill;
      else if (fetched.status === 'not_ready') return await this.release(run, 'not_ready', fetched.detail, now);
      else if ((dayPayments.length || dayRefunds.length) && now < beijingTimeOn(addDays(day, 1), NO_STATEMENT_UNTIL)) {
        return await this.release(
          run,
          'not_ready',
          `${fetched.detail}, while ${dayPayments.length} payment(s) and ${dayRefunds.length} refund(s) were recorded here that day`,
          now,
        );
      } else bill = { sha1: null, rows: [] };

      const paymentNos = bill.rows.filter((r) => r.kind === 'payment').map((r) => r.paymentNo);
      const refundNos = bill.rows.filter((r) => r.kind === 'refund').map((r) => r.refundNo!);
      const [payments, refunds] = await Promise.all([
        this.repository.paymentsByNumber(paymentNos),
        this.repository.refundsByNumber(refundNos),
      ]);
      const drafts = compareBill(bill.rows, {
        dayPayments,
        dayRefunds,
        paymentsByNo: new Map([...dayPayments, ...payments].map((p) => [p.paymentNo, p])),
        refundsByNo: new Map([...dayRefunds, ...refunds].map((r) => [r.refundNo, r])),
      });
      for (const draft of drafts) {
        if (draft.kind === 'payment' && draft.outcome === 'missing_locally') await this.settleMissing(provider, draft, now);
        else if (draft.kind === 'refund' && (draft.outcome === 'missing_locally' || draft.outcome === 'status_mismatch'))
          await this.confirmRefund(provider, draft, now);
      }
      const completed = await this.repository.complete(run.id, { sha1: bill.sha1, rows: bill.rows.length }, now, drafts);
      const discrepancies = (await this.repository.listItems(run.id)).filter((i) => i.outcome !== 'matched' || i.action);
      for (const item of discrepancies) this.logDiscrepancy(completed, item);
      this.metrics.recordRun(providerName, 'completed');
      this.logger.log(
        `${providerName} ${day}: ${bill.rows.length} bill row(s); matched=${completed.matched} missing_locally=${completed.missingLocally} ` +
          `missing_at_provider=${completed.missingAtProvider} amount_mismatch=${completed.amountMismatch} status_mismatch=${completed.statusMismatch} open=${completed.openItems}`,
      );
      return { status: 'completed', run: completed, discrepancies };
    } catch (e) {
      const reason = e instanceof BillRejected ? `bill refused: ${e.message}` : `${(e as Error)?.message ?? e}`;
      const result = await this.release(run, 'failed', reason, now);
      if (!(e instanceof BillRejected) && !isProviderFailure(e)) throw e;
      return result;
    }
  }

  /**
   * The provider took money we have no record of: ask the provider (the active query) and, when
   * it confirms the payment, settle it through the notifications' path, so the member gets their
   * time exactly once however many runs, notifications or queries race for it.
   */
  private async settleMissing(provider: PaymentProvider, draft: ItemDraft, now: Date): Promise<void> {
    let event;
    try {
      event = await provider.query(draft.paymentNo);
    } catch (e) {
      draft.detail = `${draft.detail}; the query failed (${(e as Error).message}): confirmed on the next run`;
      return;
    }
    if (event.outcome !== 'paid') {
      draft.detail = `${draft.detail}; the query answers ${event.tradeState}: not settled`;
      return;
    }
    try {
      const applied = await this.payments.applyEvent(event, 'reconciliation');
      if (applied.result === 'settled') {
        Object.assign(draft, {
          action: 'settled',
          resolvedAt: now,
          resolvedBy: 'reconciliation',
          resolutionNote: 'confirmed by the query and settled',
        });
        this.logger.warn(
          `payment ${draft.paymentNo} of order ${applied.orderNo}: in the ${provider.name} bill but never notified; settled by reconciliation`,
        );
      } else if (applied.result === 'duplicate') {
        Object.assign(draft, {
          outcome: 'matched',
          localStatus: 'success',
          localAmount: draft.providerAmount,
          detail: 'settled meanwhile by its notification or the active query',
        });
      } else if (applied.result === 'double_payment') {
        draft.action = 'settled';
        draft.detail = `${draft.detail}; a second payment of order ${applied.orderNo}, already paid by another attempt: refund it`;
      }
    } catch (e) {
      if (!(e instanceof NotificationRejected)) throw e;
      if (e.reason === 'AMOUNT_MISMATCH') draft.outcome = 'amount_mismatch';
      draft.detail = `${draft.detail}; not settled: ${e.message}`;
    }
  }

  /**
   * A refund the bill shows otherwise than we do: what does the provider say now (the bill is a
   * snapshot of the day)? When it differs from our record, its word is applied through the
   * refunds' own path (RefundsService.applyEvent, as a query answer): a refund that succeeded
   * unseen is recorded, with the order and membership following as they would on a notification.
   * A refund we have no row for is only reported: support decides what it was.
   */
  private async confirmRefund(provider: PaymentProvider, draft: ItemDraft, now: Date): Promise<void> {
    const note = (text: string) => {
      draft.detail = draft.detail ? `${draft.detail}; ${text}` : text;
    };
    let event;
    try {
      event = await this.registry.refunds(provider.name).queryRefund({ refundNo: draft.reference, paymentNo: draft.paymentNo });
    } catch (e) {
      note(`the refund query failed (${(e as Error).message}): confirmed on the next run`);
      return;
    }
    const said = event.outcome === 'not_found' ? 'not_found' : event.outcome;
    if (draft.outcome === 'status_mismatch' && said === draft.localStatus) {
      Object.assign(draft, {
        outcome: 'matched',
        detail: `the bill showed ${draft.providerStatus}; the refund query says ${said}, as recorded here`,
      });
      return;
    }
    note(`the refund query says ${said}${event.providerRefundId ? ` (refund id ${event.providerRefundId})` : ''}`);
    if (draft.localStatus === null || said === 'not_found') return;
    try {
      if ((await this.refunds.applyEvent(event, 'query', now)) === 'applied') {
        Object.assign(draft, {
          action: 'recorded',
          resolvedAt: now,
          resolvedBy: 'reconciliation',
          resolutionNote: `recorded as ${said} from the refund query`,
        });
        this.logger.warn(
          `refund ${draft.reference} of payment ${draft.paymentNo}: ${said} at ${provider.name}, ${draft.localStatus} here; recorded by reconciliation`,
        );
      }
    } catch (e) {
      if (!(e instanceof NotificationRejected)) throw e;
      note(`not recorded: ${e.message}`);
    }
  }

  private async release(run: RunRow, status: 'not_ready' | 'failed', reason: string, now: Date): Promise<ReconcileResult> {
    const released = await this.repository.release(run.id, status, reason, new Date(now.getTime() + RETRY_MS));
    this.metrics.recordRun(run.provider, status);
    const line = `${run.provider} ${run.billDate}: ${status === 'not_ready' ? 'the bill is not ready' : 'reconciliation failed'} (${reason}); tried again after ${released.nextAttemptAt?.toISOString()}`;
    if (status === 'failed') this.logger.error(line);
    else this.logger.log(line);
    return { status, run: released, reason };
  }

  /** One line per open discrepancy, with a fixed prefix to alert on. */
  private logDiscrepancy(run: RunRow, item: ItemRow): void {
    if (item.outcome === 'matched' || item.resolvedAt) return;
    this.logger.warn(
      `reconciliation discrepancy: provider=${run.provider} day=${run.billDate} outcome=${item.outcome} kind=${item.kind} ` +
        `reference=${item.reference} ours=${item.localAmount ?? '-'}/${item.localStatus ?? '-'} theirs=${item.providerAmount ?? '-'}/${item.providerStatus ?? '-'} ` +
        `item=${item.id}${item.detail ? ` (${item.detail})` : ''}`,
    );
  }
}

function isProviderFailure(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === 'PROVIDER_UNAVAILABLE' || code === 'PROVIDER_TIMEOUT' || code === 'PAYMENT_METHOD_DISABLED';
}
