import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { BillFee } from '../common/money';
import { sqlList } from '../database/sql-list';
import type { ProviderName } from '../payments/provider-name';
import { HOLDING_STATUSES } from '../refunds/refund-status';
import type { ItemKind, ItemResolution, Outcome } from './reconciliation-item.entity';
import type { RunStatus } from './reconciliation-run.entity';

/** The refund statuses that hold money, as the statements list them. */
const HOLDING_REFUNDS = sqlList(HOLDING_STATUSES);

/** Our side of a payment: a payment_records row. */
export interface LocalPayment {
  paymentNo: string;
  amountFen: number;
  status: string;
  transactionId: string | null;
}
/** Our side of a refund: a refunds row. */
export interface LocalRefund {
  refundNo: string;
  paymentNo: string;
  amountFen: number;
  status: string;
}

/** An item as the comparison produces it, before it is stored. */
export interface ItemDraft {
  kind: ItemKind;
  reference: string;
  paymentNo: string;
  outcome: Outcome;
  localAmount: number | null;
  providerAmount: number | null;
  localStatus: string | null;
  providerStatus: string | null;
  providerTradeNo: string | null;
  /** The provider's fee on the bill's line, exact (1/1000 fen and the bill's decimals); null without one. */
  providerFee: BillFee | null;
  action?: string | null;
  detail?: string | null;
  resolvedAt?: Date | null;
  resolvedBy?: string | null;
  resolutionNote?: string | null;
}

export interface RunRow {
  id: string;
  provider: ProviderName;
  billDate: string;
  status: RunStatus;
  attempts: number;
  startedAt: Date;
  comparedAt: Date | null;
  billSha1: string | null;
  billRows: number | null;
  matched: number;
  missingLocally: number;
  missingAtProvider: number;
  amountMismatch: number;
  statusMismatch: number;
  openItems: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  updatedAt: Date;
}

export interface ItemRow extends Required<Omit<ItemDraft, 'resolvedAt' | 'resolvedBy' | 'resolutionNote' | 'action' | 'detail'>> {
  id: string;
  runId: string;
  action: string | null;
  detail: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolutionNote: string | null;
  resolutions: ItemResolution[];
  createdAt: Date;
}

const RUN_COLUMNS = `id, provider, bill_date::text AS "billDate", status, attempts, started_at AS "startedAt", compared_at AS "comparedAt",
  bill_sha1 AS "billSha1", bill_rows AS "billRows", matched, missing_locally AS "missingLocally", missing_at_provider AS "missingAtProvider",
  amount_mismatch AS "amountMismatch", status_mismatch AS "statusMismatch", open_items AS "openItems", last_error AS "lastError",
  next_attempt_at AS "nextAttemptAt", updated_at AS "updatedAt"`;
/** A stored fee as a BillFee: jsonb hands the bigint over as a JSON number (exact below 2^53, i.e. 90 billion yuan). */
const FEE = `CASE WHEN provider_fee_milli_fen IS NULL THEN NULL
  ELSE jsonb_build_object('milliFen', provider_fee_milli_fen, 'decimals', provider_fee_decimals) END`;
const ITEM_COLUMNS = `id, run_id AS "runId", kind, reference, payment_no AS "paymentNo", outcome, local_amount AS "localAmount",
  provider_amount AS "providerAmount", local_status AS "localStatus", provider_status AS "providerStatus",
  provider_trade_no AS "providerTradeNo", ${FEE} AS "providerFee", action, detail, resolved_at AS "resolvedAt", resolved_by AS "resolvedBy",
  resolution_note AS "resolutionNote", resolutions, created_at AS "createdAt"`;

/**
 * Every query of reconciliation. It owns reconciliation_runs and reconciliation_items, and only
 * reads payment_records and refunds (their owners write them; a missing payment is settled
 * through PaymentsService, never here).
 */
@Injectable()
export class ReconciliationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Claims a day for this caller in one statement: a day never tried, a day whose last attempt
   * was not ready or failed and is due again, or a run whose claimant died (lease over). `force`
   * (ops re-running a day) also takes a completed day. Null: another caller has it, or it is done.
   */
  async claim(
    provider: ProviderName,
    day: string,
    now: Date,
    leaseUntil: Date,
    force: boolean,
    inTransaction?: (m: EntityManager, run: RunRow) => Promise<unknown>,
  ): Promise<RunRow | null> {
    if (inTransaction) {
      // A re-run an admin asked for is recorded (audit) in the transaction that takes the day.
      return this.dataSource.transaction(async (m) => {
        const run = await this.claimIn(m, provider, day, now, leaseUntil, force);
        if (run) await inTransaction(m, run);
        return run;
      });
    }
    return this.claimIn(this.dataSource.manager, provider, day, now, leaseUntil, force);
  }

  private async claimIn(
    m: EntityManager,
    provider: ProviderName,
    day: string,
    now: Date,
    leaseUntil: Date,
    force: boolean,
  ): Promise<RunRow | null> {
    const rows = (await m.query(
      `INSERT INTO reconciliation_runs AS r (provider, bill_date, status, attempts, lease_until, started_at)
       VALUES ($1, $2, 'running', 1, $4, $3)
       ON CONFLICT ON CONSTRAINT "UQ_reconciliation_runs_day" DO UPDATE
         SET status = 'running', attempts = r.attempts + 1, lease_until = $4, started_at = $3, updated_at = now()
       WHERE (r.status = 'running' AND r.lease_until < $3)
          OR (r.status IN ('not_ready', 'failed') AND ($5 OR r.next_attempt_at IS NULL OR r.next_attempt_at <= $3))
          OR (r.status = 'completed' AND $5)
       RETURNING ${RUN_COLUMNS}`,
      [provider, day, now, leaseUntil, force],
    )) as RunRow[];
    return rows[0] ?? null;
  }

  findRun(provider: ProviderName, day: string): Promise<RunRow | undefined> {
    return this.dataSource
      .query(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE provider = $1 AND bill_date = $2`, [provider, day])
      .then((rows: RunRow[]) => rows[0]);
  }

  getRun(id: string): Promise<RunRow | undefined> {
    return this.dataSource.query(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = $1`, [id]).then((rows: RunRow[]) => rows[0]);
  }

  /** Runs of bill days from..to (inclusive), newest day first. */
  listRuns(from: string, to: string): Promise<RunRow[]> {
    return this.dataSource.query(
      `SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE bill_date BETWEEN $1 AND $2 ORDER BY bill_date DESC, provider LIMIT 1000`,
      [from, to],
    );
  }

  /** The day was not compared: not ready, or refused/failed; tried again from `nextAttemptAt`. The last comparison stays. */
  async release(id: string, status: 'not_ready' | 'failed', error: string, nextAttemptAt: Date): Promise<RunRow> {
    const rows = (await this.dataSource.query(
      `UPDATE reconciliation_runs SET status = $2, last_error = $3, next_attempt_at = $4, lease_until = NULL, updated_at = now()
       WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
      [id, status, error.slice(0, 1000), nextAttemptAt],
    )) as [RunRow[], number];
    return rows[0][0];
  }

  /**
   * Replaces the day's result in one transaction. What support wrote about an item (its
   * resolution) survives when the item comes out the same; what reconciliation did (its action)
   * always survives, so a payment it settled stays marked as such once it matches.
   */
  async complete(id: string, bill: { sha1: string | null; rows: number | null }, comparedAt: Date, drafts: ItemDraft[]): Promise<RunRow> {
    return this.dataSource.transaction(async (m) => {
      const previous = (await m.query(
        `DELETE FROM reconciliation_items WHERE run_id = $1 RETURNING kind, reference, outcome, action,
           resolved_at AS "resolvedAt", resolved_by AS "resolvedBy", resolution_note AS "resolutionNote", resolutions`,
        [id],
      )) as [ItemRow[], number];
      const before = new Map(previous[0].map((p) => [`${p.kind} ${p.reference}`, p]));
      const items = drafts.map((d) => {
        const p = before.get(`${d.kind} ${d.reference}`);
        const keep = p && p.outcome === d.outcome && p.resolvedAt && !d.resolvedAt;
        // The history always survives; a resolution reconciliation makes now joins it.
        const resolutions: ItemResolution[] = [...(p?.resolutions ?? [])];
        if (!keep && d.resolvedAt && d.resolvedBy) {
          resolutions.push({ resolved_at: d.resolvedAt.toISOString(), resolved_by: d.resolvedBy, note: d.resolutionNote ?? null });
        }
        return {
          kind: d.kind,
          reference: d.reference,
          payment_no: d.paymentNo,
          outcome: d.outcome,
          local_amount: d.localAmount,
          provider_amount: d.providerAmount,
          local_status: d.localStatus,
          provider_status: d.providerStatus,
          provider_trade_no: d.providerTradeNo,
          provider_fee_milli_fen: d.providerFee?.milliFen ?? null,
          provider_fee_decimals: d.providerFee?.decimals ?? null,
          action: d.action ?? p?.action ?? null,
          detail: d.detail ?? null,
          resolved_at: keep ? p.resolvedAt : (d.resolvedAt ?? null),
          resolved_by: keep ? p.resolvedBy : (d.resolvedBy ?? null),
          resolution_note: keep ? p.resolutionNote : (d.resolutionNote ?? null),
          resolutions,
        };
      });
      await m.query(
        `INSERT INTO reconciliation_items (run_id, kind, reference, payment_no, outcome, local_amount, provider_amount, local_status,
           provider_status, provider_trade_no, provider_fee_milli_fen, provider_fee_decimals, action, detail, resolved_at, resolved_by,
           resolution_note, resolutions)
         SELECT $1, x.kind, x.reference, x.payment_no, x.outcome, x.local_amount, x.provider_amount, x.local_status,
           x.provider_status, x.provider_trade_no, x.provider_fee_milli_fen, x.provider_fee_decimals, x.action, x.detail, x.resolved_at, x.resolved_by, x.resolution_note, x.resolutions
         FROM jsonb_to_recordset($2::jsonb) AS x(kind text, reference text, payment_no text, outcome text, local_amount int,
           provider_amount int, local_status text, provider_status text, provider_trade_no text, provider_fee_milli_fen bigint,
           provider_fee_decimals smallint, action text, detail text,
           resolved_at timestamptz, resolved_by text, resolution_note text, resolutions jsonb)`,
        [id, JSON.stringify(items)],
      );
      await m.query(
        `UPDATE reconciliation_runs r SET status = 'completed', lease_until = NULL, next_attempt_at = NULL, last_error = NULL,
           compared_at = $2, bill_sha1 = $3, bill_rows = $4, updated_at = now(),
           matched = c.matched, missing_locally = c.missing_locally, missing_at_provider = c.missing_at_provider,
           amount_mismatch = c.amount_mismatch, status_mismatch = c.status_mismatch, open_items = c.open_items
         FROM (SELECT count(*) FILTER (WHERE outcome = 'matched')::int AS matched,
                 count(*) FILTER (WHERE outcome = 'missing_locally')::int AS missing_locally,
                 count(*) FILTER (WHERE outcome = 'missing_at_provider')::int AS missing_at_provider,
                 count(*) FILTER (WHERE outcome = 'amount_mismatch')::int AS amount_mismatch,
                 count(*) FILTER (WHERE outcome = 'status_mismatch')::int AS status_mismatch,
                 count(*) FILTER (WHERE outcome <> 'matched' AND resolved_at IS NULL)::int AS open_items
               FROM reconciliation_items WHERE run_id = $1) c
         WHERE r.id = $1`,
        [id, comparedAt, bill.sha1, bill.rows],
      );
      const [run] = (await m.query(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = $1`, [id])) as RunRow[];
      return run;
    });
  }

  listItems(runId: string, outcome?: Outcome): Promise<ItemRow[]> {
    return this.dataSource.query(
      `SELECT ${ITEM_COLUMNS} FROM reconciliation_items WHERE run_id = $1 AND ($2::text IS NULL OR outcome = $2)
       ORDER BY (outcome = 'matched'), kind, reference`,
      [runId, outcome ?? null],
    );
  }

  /**
   * Marks an item resolved by support (the latest resolution, added to its history: an earlier one
   * is never overwritten) and recounts its run's open items; undefined for an unknown item.
   * `inTransaction` runs in the same transaction (the admin audit entry).
   */
  async resolveItem(
    id: string,
    note: string,
    by: string,
    now: Date,
    inTransaction?: (m: EntityManager, item: ItemRow) => Promise<unknown>,
  ): Promise<ItemRow | undefined> {
    return this.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `UPDATE reconciliation_items SET resolved_at = $4, resolved_by = $3, resolution_note = $2,
           resolutions = resolutions || jsonb_build_array(jsonb_build_object('resolved_at', $4::timestamptz, 'resolved_by', $3::varchar, 'note', $2::text))
         WHERE id = $1 RETURNING ${ITEM_COLUMNS}`,
        [id, note, by, now],
      )) as [ItemRow[], number];
      const item = rows[0][0];
      if (!item) return undefined;
      await m.query(
        `UPDATE reconciliation_runs SET open_items = (SELECT count(*) FROM reconciliation_items
           WHERE run_id = $1 AND outcome <> 'matched' AND resolved_at IS NULL), updated_at = now() WHERE id = $1`,
        [item.runId],
      );
      await inTransaction?.(m, item);
      return item;
    });
  }

  /** Per provider, the outcome counts of its latest compared day (for the metrics). */
  latestCounts(): Promise<RunRow[]> {
    return this.dataSource.query(
      `SELECT DISTINCT ON (provider) ${RUN_COLUMNS} FROM reconciliation_runs WHERE compared_at IS NOT NULL ORDER BY provider, bill_date DESC`,
    );
  }

  /** Per provider, its most recent bill day's run, whatever its status (for the metrics). */
  latestRuns(): Promise<RunRow[]> {
    return this.dataSource.query(`SELECT DISTINCT ON (provider) ${RUN_COLUMNS} FROM reconciliation_runs ORDER BY provider, bill_date DESC`);
  }

  /** Attempts paid (or paid then refunded) within [start, end) by their provider-stated payment time. */
  paymentsPaidBetween(provider: ProviderName, start: Date, end: Date): Promise<LocalPayment[]> {
    return this.dataSource.query(
      `SELECT payment_no AS "paymentNo", amount AS "amountFen", status, transaction_id AS "transactionId" FROM payment_records
       WHERE payment_method = $1 AND status IN ('success', 'refunded') AND paid_at >= $2 AND paid_at < $3`,
      [provider, start, end],
    );
  }

  paymentsByNumber(paymentNos: string[]): Promise<LocalPayment[]> {
    if (!paymentNos.length) return Promise.resolve([]);
    return this.dataSource.query(
      `SELECT payment_no AS "paymentNo", amount AS "amountFen", status, transaction_id AS "transactionId" FROM payment_records
       WHERE payment_no = ANY($1)`,
      [paymentNos],
    );
  }

  /** Refunds that hold money, asked for within [start, end) (a WeChat Pay bill lists a refund on the day it was accepted). */
  refundsAskedBetween(provider: ProviderName, start: Date, end: Date): Promise<LocalRefund[]> {
    return this.dataSource.query(
      `SELECT refund_no AS "refundNo", payment_no AS "paymentNo", amount AS "amountFen", status FROM refunds
       WHERE payment_method = $1 AND status IN (${HOLDING_REFUNDS}) AND created_at >= $2 AND created_at < $3`,
      [provider, start, end],
    );
  }

  refundsByNumber(refundNos: string[]): Promise<LocalRefund[]> {
    if (!refundNos.length) return Promise.resolve([]);
    return this.dataSource.query(
      `SELECT refund_no AS "refundNo", payment_no AS "paymentNo", amount AS "amountFen", status FROM refunds WHERE refund_no = ANY($1)`,
      [refundNos],
    );
  }
}
