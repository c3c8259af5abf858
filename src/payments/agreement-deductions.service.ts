import { Injectable, Logger } from '@nestjs/common';
import { ProviderUnavailableError } from '../common/errors/domain-error';
import { newPaymentNo } from '../common/trade-numbers';
import { MetricsService } from '../metrics/metrics.service';
import { AgreementRegistry } from './agreement-registry';
import type { ContractRef, DeductionResult } from './agreements';
import { NotificationRejected, type PaymentEvent } from './payment-provider';
import { PaymentRecordsRepository, type ClaimedAttempt } from './payment-records.repository';
import { PaymentsService, type ApplyResult, type PaymentSource } from './payments.service';
import type { ProviderName } from './provider-name';

/**
 * The IP a server-initiated deduction is sent from (WeChat Pay's spbill_create_ip): no member is
 * present, and WeChat asks for the calling machine's address, which it does not check against the
 * connection. A fixed private address, as a member's IP is never known here.
 */
const SERVER_IP = '127.0.0.1';
const MINUTE = 60_000;
/** The first query of a deduction whose result did not come with the answer: WeChat's ACCEPT is charged later. */
const FIRST_DEDUCTION_QUERY_MS = MINUTE;

/** What a deduction is for: an order (a renewal, or the first period of an Alipay signing) of the member's. */
export interface DeductionOrder {
  orderId: string;
  method: ProviderName;
  amountFen: number;
  description: string;
}

/**
 * What a deduction (or its query, or its notification) did:
 * - paid: settled through the one settle path (`applied` says how: settled, duplicate, double_payment);
 * - failed: not charged, final for this payment number; `contractEnded`: do not try again under this contract;
 * - pending / unknown: no result yet; the deduction stays pending and is queried, never sent again;
 * - busy: nothing was asked for, another deduction of the order is in flight or the order is paid.
 */
export type DeductionOutcome =
  | { outcome: 'paid'; paymentNo: string; applied: ApplyResult }
  | { outcome: 'failed'; paymentNo: string; reason: string; contractEnded: boolean }
  | { outcome: 'pending' | 'unknown'; paymentNo: string; reason: string }
  | { outcome: 'busy' };

/**
 * Deductions under an auto-renewal contract (docs/contracts.md#deducting): payments' side of them. Each
 * try is an attempt of the order (payment_records, with the contract it ran under) with a payment number
 * of its own; a paid deduction settles through PaymentsService.settle exactly as a payment notification
 * does (order locked, attempt marked, the order's fulfilment, announced after commit), whether the news
 * came in the answer, by a query or by a notification. An answer that says nothing trustworthy leaves the
 * attempt pending for its query: a deduction is never blindly sent again.
 */
@Injectable()
export class AgreementDeductions {
  private readonly logger = new Logger('Deductions');

  constructor(
    private readonly agreements: AgreementRegistry,
    private readonly records: PaymentRecordsRepository,
    private readonly payments: PaymentsService,
    private readonly metrics: MetricsService,
  ) {}

  /** Asks the contract's provider for one deduction for the order, with a new payment number. */
  async deduct(order: DeductionOrder, contract: ContractRef, now = new Date()): Promise<DeductionOutcome> {
    const adapter = this.agreements.find(order.method);
    if (!adapter) throw new ProviderUnavailableError(`auto-renewal is off for ${order.method}: no deduction can be asked for`);
    const paymentNo = newPaymentNo(now);
    const recorded = await this.records.insertDeduction({
      orderId: order.orderId,
      paymentNo,
      method: order.method,
      amountFen: order.amountFen,
      contractId: contract.contractId,
      firstQueryAt: new Date(now.getTime() + FIRST_DEDUCTION_QUERY_MS),
    });
    if (!recorded) return { outcome: 'busy' };
    let result: DeductionResult;
    try {
      result = await adapter.deduct({
        contract,
        paymentNo,
        amountFen: order.amountFen,
        description: order.description,
        clientIp: SERVER_IP,
      });
    } catch (e) {
      // The adapters answer every provider answer as a result; anything thrown is ours or the network's,
      // after which the deduction may have been made: its query decides.
      this.logger.warn(`deduction ${paymentNo}: ${(e as Error)?.message ?? e}; left to its query`);
      result = { outcome: 'unknown', reason: 'ERROR' };
    }
    return this.apply(order.method, paymentNo, result, 'deduction');
  }

  /** Queries a pending deduction at its provider and applies the answer. */
  async query(method: ProviderName, paymentNo: string): Promise<DeductionOutcome> {
    const adapter = this.agreements.find(method);
    if (!adapter) throw new ProviderUnavailableError(`auto-renewal is off for ${method}: the deduction cannot be queried`);
    return this.apply(method, paymentNo, await adapter.queryDeduction(paymentNo), 'query');
  }

  /**
   * A deduction's result, from its answer, its query or its provider's notification (verified). Throws
   * NotificationRejected for a number that is no deduction of ours, or a contract other than its own.
   */
  async apply(
    provider: ProviderName,
    paymentNo: string,
    result: DeductionResult,
    source: PaymentSource,
    contractId?: string | null,
  ): Promise<DeductionOutcome> {
    const attempt = await this.records.deductionOf(paymentNo);
    if (!attempt || attempt.method !== provider)
      throw new NotificationRejected('UNKNOWN_ORDER', 'no deduction of ours has this out_trade_no');
    if (contractId && contractId !== attempt.contractId)
      throw new NotificationRejected('UNKNOWN_ORDER', 'the deduction is reported under another contract');
    switch (result.outcome) {
      case 'paid': {
        const event: PaymentEvent = {
          provider,
          paymentNo,
          outcome: 'paid',
          tradeState: String(result.payload.trade_state ?? result.payload.trade_status ?? 'SUCCESS'),
          providerTradeNo: result.providerTradeNo || null,
          amountFen: result.amountFen,
          paidAt: result.paidAt,
          payload: result.payload,
        };
        const applied = await this.payments.settle(event, source);
        if (applied.result !== 'duplicate') this.metrics.deductions.inc({ provider, outcome: 'paid' });
        return { outcome: 'paid', paymentNo, applied };
      }
      case 'failed':
        if (await this.records.markDeductionFailed(paymentNo, result.reason, result.payload)) {
          this.metrics.deductions.inc({ provider, outcome: 'failed' });
          this.logger.warn(`deduction ${paymentNo} declined: ${result.reason}${result.contractEnded ? ' (the contract is over)' : ''}`);
        }
        return { outcome: 'failed', paymentNo, reason: result.reason, contractEnded: result.contractEnded };
      case 'not_found':
        // The provider never made this deduction: nothing was charged, the next try takes a new number.
        if (await this.records.markDeductionFailed(paymentNo, 'NOT_FOUND', {}))
          this.metrics.deductions.inc({ provider, outcome: 'failed' });
        return { outcome: 'failed', paymentNo, reason: 'NOT_FOUND', contractEnded: false };
      case 'pending':
      case 'unknown': {
        const reason = result.outcome === 'unknown' ? result.reason : String(result.payload.trade_state ?? 'ACCEPT');
        if (source !== 'notification') await this.records.recordDeductionQuery(paymentNo, reason);
        if (source === 'deduction') this.metrics.deductions.inc({ provider, outcome: result.outcome });
        return { outcome: result.outcome, paymentNo, reason };
      }
    }
  }

  /** Pending deductions due for their query, claimed until `leaseUntil` (SKIP LOCKED, as every job's claims). */
  claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAttempt[]> {
    return this.records.claimDueDeductions(now, limit, leaseUntil);
  }

  /** The order's latest deduction (the reason a failed one was declined for). */
  lastOf(orderId: string): Promise<{ payment_no: string; status: string; trade_state: string | null } | null> {
    return this.records.lastDeductionOf(orderId);
  }

  /** The order's deduction in flight, if any. */
  openDeductionOf(orderId: string): Promise<string | null> {
    return this.records.openDeductionOf(orderId);
  }
}
