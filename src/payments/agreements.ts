import type { PaymentChannel } from './payment-channel';
import type { Acknowledgement, IncomingNotification, NotificationResult, PaymentEvent, RawNotification } from './payment-provider';
import type { ProviderName } from './provider-name';

/**
 * Auto-renewal by contract (docs/contracts.md): an optional capability of a payment provider, separate
 * from PaymentProvider because not every provider or merchant account has it. A provider's descriptor
 * offers it only when its contract settings are configured, so the core asks "can you?" by looking
 * for it, never by provider name.
 */

/** What the member signs (and, where the provider pays and signs in one step, pays for the first period). */
export interface AgreementSignRequest {
  /**
   * Our number for the contract: WeChat Pay contract_code, Alipay external_agreement_no. At most 32
   * letters and digits (Alipay's rule, the stricter of the two). A retry of the same signing sends the same one.
   */
  contractNo: string;
  /** WeChat Pay pay-and-sign: the first period's out_trade_no (paid by the same QR code). Unused by Alipay. */
  paymentNo: string;
  /** The plan the contract renews (WeChat Pay needs a template for it). */
  planCode: string;
  /** Every renewal's amount, fixed at signing (Alipay single_amount). */
  amountFen: number;
  /**
   * What the first period costs (WeChat Pay pay-and-sign total_fee): the renewal's amount, or less for
   * an upgrade, whose first payment is only a difference. Default: amountFen.
   */
  firstAmountFen?: number;
  /** How the member signs (and pays): the QR code, or on the phone itself (SIGNING_CHANNELS). */
  channel?: PaymentChannel;
  /** The order's description, shown to the member. */
  description: string;
  /** How WeChat's contract list names the member's account: no emoji or other 4-byte characters. */
  displayAccount: string;
  /** One period of the plan, in days (Alipay's period rule; WeChat's template fixes its own). */
  periodDays: number;
  /** The first deduction's day, Beijing date `YYYY-MM-DD` (Alipay `execute_time`). */
  firstDeductionDate: string;
  /** The member's IP, as the order saw it (WeChat spbill_create_ip). */
  clientIp: string;
}

/**
 * What the member opens: `pay_and_sign` (WeChat Pay: the QR code pays the first period and signs; the
 * payment's result comes as a `payment` event) or `sign_only` (Alipay: the page signs; the first period is
 * deducted once the `signed` event arrives).
 */
export interface AgreementSigning {
  kind: 'pay_and_sign' | 'sign_only';
  /** The code_url (WeChat Pay) or the agreement page URL (Alipay) to show as a QR code. */
  url: string;
}

/** The channels a member can sign (and pay) on, by what the client receives: the QR code, or a link the phone opens. */
export const SIGNING_CHANNELS: readonly PaymentChannel[] = ['qr', 'h5', 'wap'];

/** A signed contract as the provider knows it. */
export interface ContractRef {
  /** The provider's id: WeChat Pay contract_id, Alipay agreement_no. */
  contractId: string;
  /** Ours (see AgreementSignRequest.contractNo). */
  contractNo: string;
}

export interface DeductionRequest {
  contract: ContractRef;
  /** A new out_trade_no for every try; a retry of an unknown outcome sends the same one. */
  paymentNo: string;
  amountFen: number;
  description: string;
  clientIp: string;
}

/**
 * A deduction's state, neutral:
 * - paid: money taken (final);
 * - pending: accepted, the result comes by notification or query (WeChat Pay's ACCEPT);
 * - failed: not charged, final for this payment number; `reason` is the provider's code. `contractEnded`:
 *   the contract is gone at the provider, do not try again; otherwise a new number may try later;
 * - unknown: no trustworthy answer (timeout, SYSTEMERROR, an answer that does not verify): query the same number;
 * - not_found (queries only): the provider has no such deduction, so it was never charged.
 */
export type DeductionResult =
  | { outcome: 'paid'; providerTradeNo: string; amountFen: number; paidAt: Date; payload: Record<string, unknown> }
  | { outcome: 'pending'; payload: Record<string, unknown> }
  | { outcome: 'failed'; reason: string; message: string; contractEnded: boolean; payload: Record<string, unknown> }
  | { outcome: 'unknown'; reason: string }
  | { outcome: 'not_found' };

/**
 * A contract as its provider's query tells it (for signings that were never notified): `active` (signed and
 * in force: the provider's id and when it was signed, so it can be recorded as the signing notification
 * would have), `ended` (signed, then terminated), or `not_found` (never signed, or unknown to the provider).
 */
export type ContractState =
  | { state: 'active'; contract: ContractRef; signedAt: Date }
  | { state: 'ended'; contract: ContractRef; signedAt: Date | null }
  | { state: 'not_found' };

/**
 * What a verified contract notification says:
 * - signed: the member signed (WeChat ADD, Alipay dut_user_sign NORMAL);
 * - ended: the contract is over (WeChat DELETE, Alipay dut_user_unsign), `by` whom;
 * - deduction: a deduction's result (WeChat trade_type PAP, Alipay trade_status_sync of a deduction);
 * - payment: the first period of a pay-and-sign order (WeChat contractorder), in PaymentProvider's shape.
 */
export type AgreementEvent =
  | {
      kind: 'signed';
      provider: ProviderName;
      contract: ContractRef;
      /** WeChat Pay: the plan of the template signed. */
      planCode?: string;
      signedAt: Date;
      payload: Record<string, unknown>;
    }
  | {
      kind: 'ended';
      provider: ProviderName;
      contract: ContractRef;
      by: 'member' | 'merchant' | 'provider';
      endedAt: Date;
      payload: Record<string, unknown>;
    }
  | { kind: 'deduction'; provider: ProviderName; paymentNo: string; contractId: string | null; result: DeductionResult }
  | { kind: 'payment'; provider: ProviderName; event: PaymentEvent };

/**
 * Where a contract notification arrived: `contract` (WeChat Pay's contract URL: sign and unsign) or
 * `payment` (WeChat Pay's papay URL for payments and deductions, or Alipay's one callback).
 */
export type AgreementRoute = 'contract' | 'payment';

/** The provider refused to sign: nothing was signed, and the same request would be refused again. */
export class AgreementRefused extends Error {
  constructor(
    readonly providerCode: string,
    readonly providerMessage: string,
  ) {
    super(`${providerCode}: ${providerMessage}`);
    this.name = 'AgreementRefused';
  }
}

export interface AgreementProvider {
  readonly provider: ProviderName;
  /**
   * Who tells the member before a deduction: `provider` (WeChat's template notifies the member itself),
   * `merchant` (sendPreDeductionNotice is required in each cycle), `none` (Alipay: the app's own reminder).
   */
  readonly preDeductionNotice: 'provider' | 'merchant' | 'none';
  /**
   * What signing does: `pay_and_sign` (the member pays the first period and signs at once) or
   * `sign_only` (the member signs; the first period is then deducted under the new contract).
   */
  readonly signing: 'pay_and_sign' | 'sign_only';
  /** The channels this provider signs on (of SIGNING_CHANNELS). */
  readonly signingChannels: readonly PaymentChannel[];
  /** Whether this plan can be bought with auto-renewal (WeChat Pay: a template is configured for it). */
  supportsPlan(planCode: string): boolean;
  /** What the member opens to sign. Throws AgreementRefused, or ProviderTimeoutError / ProviderUnavailableError (retry the same request). */
  sign(request: AgreementSignRequest): Promise<AgreementSigning>;
  /** Asks for one deduction; never throws for a provider's answer (see DeductionResult). */
  deduct(request: DeductionRequest): Promise<DeductionResult>;
  /** The deduction's state, by its payment number. */
  queryDeduction(paymentNo: string): Promise<DeductionResult>;
  /** The contract's state (a signing nobody notified, a contract ended without notice). */
  queryContract(contract: Partial<ContractRef> & Pick<ContractRef, 'contractNo'>, planCode?: string): Promise<ContractState>;
  /** Ends the contract at the provider; idempotent ('not_found' when the provider has no such contract). */
  terminate(contract: ContractRef, reason: string): Promise<'terminated' | 'not_found'>;
  /**
   * The merchant's notice before a deduction (WeChat Pay merchant-notice templates: within `days` days,
   * 1–3, at most `amountFen`). 'not_needed' where the provider notifies or has no notice.
   */
  sendPreDeductionNotice(contract: ContractRef, amountFen: number, days: number): Promise<'sent' | 'already_sent' | 'not_needed'>;
  /**
   * Is this notification, arriving at the provider's ordinary payment callback, one of the contract
   * product's? (Alipay sends agreement notifications there; WeChat Pay's have URLs of their own.)
   */
  claims(raw: RawNotification): boolean;
  /** Verifies a contract notification and says what it means; throws NotificationRejected. */
  verifyAndClassify(raw: RawNotification, route: AgreementRoute): Promise<AgreementEvent>;
  /** The answer the sender understands. */
  acknowledge(result: NotificationResult, reason?: string): Acknowledgement;
}

/**
 * A contract notification in the router's terms: a pay-and-sign payment goes to settlement like any
 * payment, every other contract event to the module that owns contracts.
 */
export function toIncoming(event: AgreementEvent): IncomingNotification {
  return event.kind === 'payment' ? { kind: 'payment', event: event.event } : { kind: 'agreement', event };
}
