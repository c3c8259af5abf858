import type { BillRow } from '../payments/provider-bill';
import type { ItemDraft, LocalPayment, LocalRefund } from './reconciliation.repository';

/** A payment row says the money was taken; REVOKED and the like say it was given back. */
const PAID_STATES = new Set(['SUCCESS', 'TRADE_SUCCESS', 'TRADE_FINISHED']);
/** Attempt statuses that mean we recorded the money (a refunded attempt was paid first). */
const RECORDED = new Set(['success', 'refunded']);
/** A refund row's state in our words. */
const REFUND_STATES: Record<string, string> = {
  SUCCESS: 'success',
  REFUND_SUCCESS: 'success',
  PROCESSING: 'processing',
  ABNORMAL: 'abnormal',
  CLOSED: 'closed',
};

export interface LocalBooks {
  /** What we recorded for the day: paid attempts and refunds holding money. */
  dayPayments: LocalPayment[];
  dayRefunds: LocalRefund[];
  /** Our rows for every number the bill names, whatever their day or status. */
  paymentsByNo: Map<string, LocalPayment>;
  refundsByNo: Map<string, LocalRefund>;
}

/**
 * Compares a bill with our books, line by line, by out_trade_no for payments and by
 * out_refund_no / out_request_no for refunds. Decides outcomes only; confirming and settling
 * what is missing here is the service's job.
 */
export function compareBill(rows: BillRow[], books: LocalBooks): ItemDraft[] {
  const items = new Map<string, ItemDraft>();
  for (const row of rows) {
    const reference = referenceOf(row);
    const key = `${row.kind} ${reference}`;
    const seen = items.get(key);
    if (seen) {
      // A number listed twice is not something to guess about.
      seen.detail = 'the bill lists this number more than once';
      if (seen.outcome === 'matched') seen.outcome = 'amount_mismatch';
      continue;
    }
    items.set(
      key,
      row.kind === 'payment'
        ? comparePayment(row, books.paymentsByNo.get(row.paymentNo))
        : compareRefund(row, books.refundsByNo.get(reference)),
    );
  }
  for (const p of books.dayPayments) {
    if (items.has(`payment ${p.paymentNo}`)) continue;
    items.set(`payment ${p.paymentNo}`, {
      kind: 'payment',
      reference: p.paymentNo,
      paymentNo: p.paymentNo,
      outcome: 'missing_at_provider',
      localAmount: p.amountFen,
      providerAmount: null,
      localStatus: p.status,
      providerStatus: null,
      providerTradeNo: p.transactionId,
      providerFee: null,
      detail: "recorded here as paid, absent from the bill (a payment at the turn of the day may sit in the next day's bill)",
    });
  }
  for (const r of books.dayRefunds) {
    if (items.has(`refund ${r.refundNo}`)) continue;
    items.set(`refund ${r.refundNo}`, {
      kind: 'refund',
      reference: r.refundNo,
      paymentNo: r.paymentNo,
      outcome: 'missing_at_provider',
      localAmount: r.amountFen,
      providerAmount: null,
      localStatus: r.status,
      providerStatus: null,
      providerTradeNo: null,
      providerFee: null,
      detail: 'asked for here, absent from the bill',
    });
  }
  return [...items.values()];
}

/** A payment row is known by its out_trade_no, a refund row by its refund number. */
const referenceOf = (row: BillRow): string => (row.kind === 'payment' ? row.paymentNo : row.refundNo!);

/** What every item records of the bill's row and of ours, whatever the outcome. */
function itemBase(row: BillRow, local: { amountFen: number; status: string } | undefined) {
  return {
    kind: row.kind,
    reference: referenceOf(row),
    paymentNo: row.paymentNo,
    providerAmount: row.amountFen,
    providerStatus: row.status,
    providerTradeNo: row.providerTradeNo,
    providerFee: row.fee,
    localAmount: local?.amountFen ?? null,
    localStatus: local?.status ?? null,
  };
}

function comparePayment(row: BillRow, local: LocalPayment | undefined): ItemDraft {
  const base = itemBase(row, local);
  if (!local || !RECORDED.has(local.status)) {
    return {
      ...base,
      outcome: 'missing_locally',
      detail: local ? `the attempt is ${local.status} here` : 'no attempt here has this out_trade_no',
    };
  }
  if (local.amountFen !== row.amountFen) return { ...base, outcome: 'amount_mismatch' };
  if (!PAID_STATES.has(row.status)) return { ...base, outcome: 'status_mismatch', detail: `the bill says ${row.status}` };
  return { ...base, outcome: 'matched' };
}

function compareRefund(row: BillRow, local: LocalRefund | undefined): ItemDraft {
  const base = itemBase(row, local);
  if (!local) return { ...base, outcome: 'missing_locally', detail: 'no refund here has this number' };
  if (local.amountFen !== row.amountFen) return { ...base, outcome: 'amount_mismatch' };
  if ((REFUND_STATES[row.status] ?? row.status) !== local.status) return { ...base, outcome: 'status_mismatch' };
  return { ...base, outcome: 'matched' };
}
