import type { PaymentMethod } from '../orders/order-status';
import type { BillFetch } from './provider-bill';

export type ProviderName = PaymentMethod;

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
 * active query; the only shape payments.service ever sees (style.md).
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

export type CloseResult = 'closed' | 'paid';

export interface PaymentProvider {
  readonly name: ProviderName;
  createQr(order: PayableOrder): Promise<QrPayment>;
  /** The attempt's state at the provider: the active query's and the expiry job's view. */
  query(paymentNo: string): Promise<PaymentEvent>;
  /** Makes the attempt unpayable; 'paid' when the buyer paid first. */
  close(paymentNo: string): Promise<CloseResult>;
  /** Verifies an incoming notification and maps it; throws NotificationRejected. */
  verifyNotification(raw: RawNotification): Promise<PaymentEvent>;
  /** The answer the sender understands for each outcome. */
  acknowledge(result: NotificationResult, reason?: string): Acknowledgement;
  /** The provider's trade bill of a Beijing day (YYYY-MM-DD): payments and refunds; throws BillRejected. */
  fetchBill(date: string): Promise<BillFetch>;
  /** For providers that send the buyer's browser back: the verified out_trade_no, or null. */
  verifyReturn?(query: Record<string, string>): string | null;
}

/** A notification that must change nothing: bad signature, stale, not ours, unknown, mismatched. */
export class NotificationRejected extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
    this.name = 'NotificationRejected';
  }
}
