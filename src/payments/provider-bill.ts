import type { BillFee } from '../common/money';
import type { ProviderName } from './provider-name';

/**
 * One line of a provider's daily trade bill, provider-neutral: a payment it took or a refund it
 * paid back. Amounts are positive fen whatever sign the bill wrote.
 */
export interface BillRow {
  kind: 'payment' | 'refund';
  /** Our out_trade_no: the payment, or for a refund the payment it refunds. */
  paymentNo: string;
  /** Our out_refund_no (WeChat Pay) / out_request_no (Alipay); null for a payment. */
  refundNo: string | null;
  providerTradeNo: string | null;
  amountFen: number;
  /** The state the bill shows: SUCCESS for a payment; a refund's state when the bill was cut. */
  status: string;
  /**
   * The provider's fee on this line, exact, in the bill's own precision: positive when it charged
   * one, negative when it gave one back (on a refund), whichever sign its bill uses; null when the
   * bill has no fee column (older layouts) or leaves the cell empty.
   */
  fee: BillFee | null;
}

export interface ProviderBill {
  provider: ProviderName;
  /** The Beijing day, YYYY-MM-DD. */
  date: string;
  rows: BillRow[];
  /** Identifies the file compared: WeChat Pay's verified SHA1, or the SHA1 of Alipay's ZIP. */
  sha1: string;
}

/**
 * The answer to "give me day D's bill":
 * - `ready`: the bill, checked and parsed (possibly with no rows: a valid empty day);
 * - `no_statement`: the provider has no file for the day, which means either no trades that day
 *   or not generated yet (both providers use one code for both); the caller tells them apart;
 * - `not_ready`: the provider says it is still generating the bill: ask again later.
 */
export type BillFetch =
  { status: 'ready'; bill: ProviderBill } | { status: 'no_statement'; detail: string } | { status: 'not_ready'; detail: string };

/** A bill that must not be used: its hash does not match, or it cannot be read. */
export class BillRejected extends Error {
  constructor(
    readonly reason: 'HASH_MISMATCH' | 'MALFORMED_BILL',
    message: string,
  ) {
    super(message);
    this.name = 'BillRejected';
  }
}
