import type { ServerResponse } from 'node:http';
import type { AgreementEvent } from './agreements';
import type { BillFetch } from './provider-bill';
import type { ProviderName } from './provider-name';

/** What a provider needs to open one payment attempt (a QR code). */
export interface PayableOrder {
  /** Our out_trade_no for this attempt. */
  paymentNo: string;
  amountFen: number;
  description: string;
  /** The last moment the buyer may pay this QR code. */
  expiresAt: Date;
}

export interface QrPayment {
  qrCodeUrl: string;
}

/**
 * The provider-neutral account of a payment attempt, from a verified notification or an
 * active query; the only shape payments.service ever sees, so it never learns a provider's vocabulary.
 */
export interface PaymentEvent {
  provider: ProviderName;
  paymentNo: string;
  outcome: 'paid' | 'closed' | 'pending' | 'not_found';
  /** The provider's raw state (trade_state / trade_status). */
  tradeState: string;
  providerTradeNo: string | null;
  amountFen: number | null;
  paidAt: Date | null;
  /** The verified (and decrypted) content, kept on the payment record. */
  payload: Record<string, unknown>;
  /** The notification's id, for the logs. */
  eventId?: string;
}

/**
 * An event that carries only a state, no payment: a trade the provider does not know, or one we
 * closed. One builder, so the neutral shape is written once.
 */
export function stateEvent(provider: ProviderName, paymentNo: string, outcome: 'closed' | 'not_found', tradeState: string): PaymentEvent {
  return { provider, paymentNo, outcome, tradeState, providerTradeNo: null, amountFen: null, paidAt: null, payload: {} };
}

/**
 * A verified notification, classified by the provider that sent it: the core routes it by kind
 * (a payment's news to settlement, a refund's to refunds), so one callback URL per provider serves
 * every kind it sends.
 */
export type IncomingNotification =
  { kind: 'payment'; event: PaymentEvent } | { kind: 'refund'; event: RefundEvent } | { kind: 'agreement'; event: ContractEvent };

/** An auto-renewal contract's news: signed, ended, or a deduction's result (docs/contracts.md). */
export type ContractEvent = Exclude<AgreementEvent, { kind: 'payment' }>;
export type NotificationKind = IncomingNotification['kind'];

export interface RawNotification {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

export type NotificationResult = 'accepted' | 'rejected' | 'retry';

export interface Acknowledgement {
  status: number;
  contentType: string;
  body: string;
}

/**
 * Writes a provider's acknowledgement as it is. Express's send() would also hash the body for an
 * ETag and check the request's freshness for a conditional answer: work done on every
 * notification for headers no provider reads. As send() does, a 204 goes without body or type.
 * Of the browser headers (helmet's, not applied to callbacks) only nosniff is kept: an answer
 * opened in a browser is shown as the text it is.
 */
export function writeAcknowledgement(res: ServerResponse, ack: Acknowledgement): void {
  res.statusCode = ack.status;
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (ack.status === 204) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', `${ack.contentType}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(ack.body));
  res.end(ack.body);
}

/**
 * 'paid': the buyer paid first (to be confirmed by a query); 'not_found': the provider does not
 * know the trade yet (Alipay before the scan), so the code may still be scanned until it expires.
 */
export type CloseResult = 'closed' | 'paid' | 'not_found';

/** What a provider needs to refund part or all of one paid attempt. */
export interface RefundRequest {
  /** Our refund number: WeChat Pay out_refund_no, Alipay out_request_no. A retry sends the same one. */
  refundNo: string;
  /** The paid attempt's out_trade_no. */
  paymentNo: string;
  /** This refund. */
  amountFen: number;
  /** What the attempt was paid (WeChat Pay wants the original total with every refund). */
  totalFen: number;
  reason: string;
}

/** A refund's state at the provider, neutral; the only shape the refunds module sees. */
export interface RefundEvent {
  provider: ProviderName;
  refundNo: string;
  /** The paid attempt's out_trade_no, as the provider states it (null when it did not say). */
  paymentNo: string | null;
  /**
   * processing: accepted, not done; success: money returned (final); closed: the provider gave up
   * (final, nothing returned); abnormal: stuck (WeChat Pay: the buyer's card refused it), not
   * final; not_found: the provider has no such refund (safe to send it again, same number).
   */
  outcome: 'processing' | 'success' | 'closed' | 'abnormal' | 'not_found';
  /** The provider's raw state (WeChat refund status, Alipay refund_status or fund_change). */
  providerState: string;
  providerRefundId: string | null;
  amountFen: number | null;
  succeededAt: Date | null;
  payload: Record<string, unknown>;
  eventId?: string;
}

/**
 * The provider refused the refund for good (the refund window is over, the merchant balance is
 * short, …): nothing was refunded, and sending the same request again would be refused again.
 * `providerMessage` is the provider's own words, shown to support.
 */
export class RefundRefused extends Error {
  constructor(
    readonly providerCode: string,
    readonly providerMessage: string,
  ) {
    super(`${providerCode}: ${providerMessage}`);
    this.name = 'RefundRefused';
  }
}

export interface PaymentProvider {
  readonly name: ProviderName;
  createQr(order: PayableOrder): Promise<QrPayment>;
  /** The attempt's state at the provider: the active query's and the expiry job's view. */
  query(paymentNo: string): Promise<PaymentEvent>;
  /** Makes the attempt unpayable; 'paid' when the buyer paid first, 'not_found' when no trade exists yet. */
  close(paymentNo: string): Promise<CloseResult>;
  /** Verifies an incoming notification, classifies and maps it; throws NotificationRejected. */
  verifyNotification(raw: RawNotification): Promise<IncomingNotification>;
  /** The answer the sender understands for each outcome. */
  acknowledge(result: NotificationResult, reason?: string): Acknowledgement;
  /**
   * The out_trade_no a notification names, read WITHOUT trusting it (it may be forged, stale or
   * altered): used only to file a refused notification under the order it claims to be about, so
   * support sees it in that order's story. Null when none can be read; never throws.
   */
  namedPaymentNo?(raw: RawNotification): string | null;
  /** For providers that send the buyer's browser back: the verified out_trade_no, or null. */
  verifyReturn?(query: Record<string, string>): string | null;
}

/**
 * Refunds, an optional capability beside PaymentProvider: a provider's descriptor declares it
 * (`refunds`), and the core asks the registry whether the provider can (ProviderRegistry.refunds).
 */
export interface RefundCapability {
  /**
   * Asks for a refund. Throws RefundRefused for a final refusal; ProviderTimeoutError /
   * ProviderUnavailableError when the outcome is unknown (then query, or send the same refundNo again).
   */
  refund(request: RefundRequest): Promise<RefundEvent>;
  /** The refund's state at the provider (`not_found` when it has none under that number). */
  queryRefund(request: Pick<RefundRequest, 'refundNo' | 'paymentNo'>): Promise<RefundEvent>;
}

/** Daily trade bills, an optional capability (reconciliation): declared by the descriptor (`bills`). */
export interface BillCapability {
  /** The provider's trade bill of a Beijing day (YYYY-MM-DD): payments and refunds; throws BillRejected. */
  fetchBill(date: string): Promise<BillFetch>;
}

/**
 * Reasons a correctly signed notification cannot be used: it does not decrypt (the API v3 key was
 * rotated), names another merchant, app or seller, an attempt or a refund we do not have, another
 * payment, or another amount or currency. The provider did sign it, so this is not a forgery but a configuration or data problem
 * for an operator: such rejections are logged at error level and counted as `unusable`.
 */
const UNUSABLE = [
  'DECRYPTION_FAILED',
  'WRONG_MCHID',
  'WRONG_APP_ID',
  'WRONG_SELLER_ID',
  'UNKNOWN_ORDER',
  'UNKNOWN_CONTRACT',
  'AMOUNT_MISMATCH',
  'WRONG_CURRENCY',
  'UNKNOWN_REFUND',
  'PAYMENT_MISMATCH',
] as const;

/**
 * Why a notification (of a payment or a refund) was refused: one code per check, shared by every
 * provider, logged and counted (memberpay_notification_rejections_total) under this code. The
 * message that goes with it is for the sender and the logs; the code is for operators' queries.
 */
export const NOTIFICATION_REJECTION_REASONS = [
  // The envelope: absent or repeated headers, a probe, a key we do not hold, a stale timestamp.
  'HEADERS_INCOMPLETE',
  'PROBE_SIGNATURE',
  'UNKNOWN_SERIAL',
  'STALE_TIMESTAMP',
  'MISSING_SIGNATURE',
  'BAD_SIGNATURE',
  // The content: not what the provider sends, or not a result we act on.
  'MALFORMED_BODY',
  'MALFORMED_RESOURCE',
  'MALFORMED_AMOUNT',
  'UNEXPECTED_EVENT',
  // Signed by the provider, yet not usable here (refund results included: no refund of ours, or another payment).
  ...UNUSABLE,
] as const;
export type NotificationRejectionReason = (typeof NOTIFICATION_REJECTION_REASONS)[number];

/**
 * Of those, the ones fixed on our side while the provider still holds the notification: answered
 * 5xx, so that it is sent again once the key is put right.
 */
const RETRY_REASONS: ReadonlySet<NotificationRejectionReason> = new Set<NotificationRejectionReason>(['DECRYPTION_FAILED']);

/** A notification that must change nothing: bad signature, stale, not ours, unknown, mismatched. */
export class NotificationRejected extends Error {
  constructor(
    readonly reason: NotificationRejectionReason,
    message: string,
  ) {
    super(message);
    this.name = 'NotificationRejected';
  }

  /** Signed by the provider, but not usable here (see UNUSABLE). */
  get unusable(): boolean {
    return (UNUSABLE as readonly string[]).includes(this.reason);
  }

  /** The provider should send it again later (see RETRY_REASONS). */
  get retryLater(): boolean {
    return RETRY_REASONS.has(this.reason);
  }
}
