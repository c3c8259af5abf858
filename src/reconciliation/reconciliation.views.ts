import { ApiProperty } from '@nestjs/swagger';
import { feeToYuan } from '../common/money';
import { PROVIDER_NAMES } from '../payments/provider-name';
import { OUTCOMES } from './reconciliation-item.entity';
import { RUN_STATUSES } from './reconciliation-run.entity';
import type { ItemRow, RunRow } from './reconciliation.repository';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

class OutcomeCounts {
  @ApiProperty() matched: number;
  @ApiProperty() missing_locally: number;
  @ApiProperty() missing_at_provider: number;
  @ApiProperty() amount_mismatch: number;
  @ApiProperty() status_mismatch: number;
}

/** One provider's reconciliation of one Beijing day. */
export class RunView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: PROVIDER_NAMES }) provider: string;
  @ApiProperty({ example: '2026-11-28', description: 'the Beijing day of the bill' }) bill_date: string;
  @ApiProperty({ enum: RUN_STATUSES, description: 'not_ready and failed keep the last comparison, if any' }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ format: 'date-time' }) started_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'when the items below were compared' }) compared_at:
    string | null;
  @ApiProperty({ type: String, nullable: true, description: 'SHA1 of the bill compared; null for a day without a file' }) bill_sha1:
    string | null;
  @ApiProperty({ type: Number, nullable: true }) bill_rows: number | null;
  @ApiProperty({ type: OutcomeCounts }) counts: OutcomeCounts;
  @ApiProperty({ description: 'discrepancies nobody resolved yet' }) open_items: number;
  @ApiProperty({ type: String, nullable: true }) last_error: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) next_attempt_at: string | null;
}

export class RunList {
  @ApiProperty({ type: [RunView] }) data: RunView[];
}

/** One resolution of an item. */
export class ItemResolutionView {
  @ApiProperty({ type: String, format: 'date-time' }) resolved_at: string;
  @ApiProperty({ description: "the admin's sub, or `reconciliation` for what it settled or recorded itself" }) resolved_by: string;
  @ApiProperty({ type: String, nullable: true }) note: string | null;
}

/** One payment or refund of a reconciled day; amounts in fen. */
export class ItemView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) run_id: string;
  @ApiProperty({ enum: ['payment', 'refund'] }) kind: string;
  @ApiProperty({ description: 'out_trade_no of a payment, out_refund_no / out_request_no of a refund' }) reference: string;
  @ApiProperty({ description: 'out_trade_no' }) payment_no: string;
  @ApiProperty({ enum: OUTCOMES }) outcome: string;
  @ApiProperty({ type: Number, nullable: true }) local_amount: number | null;
  @ApiProperty({ type: Number, nullable: true }) provider_amount: number | null;
  @ApiProperty({ type: String, nullable: true }) local_status: string | null;
  @ApiProperty({ type: String, nullable: true }) provider_status: string | null;
  @ApiProperty({ type: String, nullable: true }) provider_trade_no: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '0.11940',
    description:
      "the provider's fee on the bill's line, in yuan with the bill's own decimals (WeChat Pay 5, Alipay 2), exact: positive charged, negative given back",
  })
  provider_fee: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'what reconciliation did: settled (a payment confirmed by the query)' })
  action: string | null;
  @ApiProperty({ type: String, nullable: true }) detail: string | null;
  @ApiProperty({ description: 'a discrepancy nobody resolved yet' }) open: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolved_at: string | null;
  @ApiProperty({ type: String, nullable: true }) resolved_by: string | null;
  @ApiProperty({ type: String, nullable: true }) resolution_note: string | null;
  @ApiProperty({
    type: [ItemResolutionView],
    description: 'every resolution, oldest first (resolved_at, resolved_by and resolution_note are the latest)',
  })
  resolutions: ItemResolutionView[];
}

/** What re-running a day did. */
export class RerunView {
  @ApiProperty({ enum: ['completed', 'not_ready', 'failed', 'skipped'], description: 'skipped: another caller is reconciling the day now' })
  status: string;
  @ApiProperty({ type: String, nullable: true, description: 'why the day was not compared' }) reason: string | null;
  @ApiProperty({ type: RunView, nullable: true }) run: RunView | null;
}

export class ItemList {
  @ApiProperty({ type: [ItemView] }) data: ItemView[];
}

export function runView(r: RunRow): RunView {
  return {
    id: r.id,
    provider: r.provider,
    bill_date: r.billDate,
    status: r.status,
    attempts: r.attempts,
    started_at: iso(r.startedAt)!,
    compared_at: iso(r.comparedAt),
    bill_sha1: r.billSha1,
    bill_rows: r.billRows,
    counts: {
      matched: r.matched,
      missing_locally: r.missingLocally,
      missing_at_provider: r.missingAtProvider,
      amount_mismatch: r.amountMismatch,
      status_mismatch: r.statusMismatch,
    },
    open_items: r.openItems,
    last_error: r.lastError,
    next_attempt_at: iso(r.nextAttemptAt),
  };
}

export function itemView(i: ItemRow): ItemView {
  return {
    id: i.id,
    run_id: i.runId,
    kind: i.kind,
    reference: i.reference,
    payment_no: i.paymentNo,
    outcome: i.outcome,
    local_amount: i.localAmount,
    provider_amount: i.providerAmount,
    local_status: i.localStatus,
    provider_status: i.providerStatus,
    provider_trade_no: i.providerTradeNo,
    provider_fee: i.providerFee ? feeToYuan(i.providerFee) : null,
    action: i.action,
    detail: i.detail,
    open: i.outcome !== 'matched' && !i.resolvedAt,
    resolved_at: iso(i.resolvedAt),
    resolved_by: i.resolvedBy,
    resolution_note: i.resolutionNote,
    resolutions: (i.resolutions ?? []).map((r) => ({
      resolved_at: new Date(r.resolved_at).toISOString(),
      resolved_by: r.resolved_by,
      note: r.note,
    })),
  };
}
