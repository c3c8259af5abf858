import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AdminCaller } from '../audit/audit-log';
import { appendAuditEntry } from '../audit/audit-log.repository';
import { ConflictError, DomainError } from '../common/errors/domain-error';
import { MembershipService } from '../membership/membership.service';
import { OrdersService } from '../orders/orders.service';
import { AgreementDeductions, type DeductionOutcome } from '../payments/agreement-deductions.service';
import { newContractNo } from '../common/trade-numbers';
import type { ContractEvent } from '../payments/payment-provider';
import { NotificationRejected } from '../payments/payment-provider';
import { AgreementRegistry } from '../payments/agreement-registry';
import { NotificationRouter, type HandledAs } from '../payments/notification-router';
import type { ProviderName } from '../payments/provider-name';
import type { ContractEndedBy } from './contract.entity';
import { ContractsRepository, OpenContractExists, type ContractRow } from './contracts.repository';
import { RenewalsService } from './renewals.service';

/**
 * Who ends a member's auto-renewal from our side: the member (from the app), or support for them,
 * whose cancel is recorded in the admin audit log with who, from where and why, in the transaction
 * that ends the contract.
 */
export type CancelActor = { by: 'member' } | { by: 'support'; caller: AdminCaller; reason: string };
const MEMBER: CancelActor = { by: 'member' };

/** What the provider is told (its own record of why the contract ended); support's reason stays ours. */
/** A signing the sweep left as it was (the member may still sign, a charge in flight) is looked at again this much later. */
const SWEEP_RECHECK_MS = 5 * 60_000;

const TERMINATION_REMARK: Record<CancelActor['by'], string> = { member: '会员取消自动续费', support: '客服代会员取消自动续费' };

/**
 * Auto-renewal contracts (docs/contracts.md): their rows, and what the providers' contract notifications
 * do to them. Renewal orders, the renewal job and the member API build on this and are not here yet.
 */
@Injectable()
export class SubscriptionsService implements OnModuleInit {
  private readonly logger = new Logger('Subscriptions');

  constructor(
    private readonly contracts: ContractsRepository,
    private readonly router: NotificationRouter,
    private readonly agreements: AgreementRegistry,
    private readonly deductions: AgreementDeductions,
    private readonly orders: OrdersService,
    private readonly renewals: RenewalsService,
    private readonly membership: MembershipService,
  ) {}

  onModuleInit(): void {
    this.router.handle('agreement', (event) => this.applyEvent(event));
  }

  /**
   * A pending contract for a member's plan on a provider that can sign (409 AUTO_RENEW_ACTIVE when the
   * member has one open already; 400 when the provider cannot sign this plan).
   */
  async openPending(
    userId: string,
    provider: ProviderName,
    plan: { id: number; code: string },
    amountFen: number,
    now = new Date(),
  ): Promise<ContractRow> {
    const adapter = this.agreements.find(provider);
    if (!adapter?.supportsPlan(plan.code)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [
        `auto-renewal is not available for ${plan.code} with ${provider}`,
      ]);
    }
    try {
      return await this.contracts.insertPending({ contractNo: newContractNo(now), userId, provider, planId: plan.id, amountFen });
    } catch (e) {
      if (e instanceof OpenContractExists)
        throw new DomainError('AUTO_RENEW_ACTIVE', 'An auto-renewal contract is already open for this member');
      throw e;
    }
  }

  /**
   * A verified contract notification. Each change happens once (a conditional UPDATE); a repeat answers
   * `duplicate`, so the provider's resends and replays change nothing.
   */
  async applyEvent(event: ContractEvent): Promise<HandledAs> {
    if (event.kind === 'deduction') {
      // A deduction's result settles through payments' one path, as its answer or its query would; what
      // it means for the contract's cycle is the renewal job's (and the order.paid listener's) to draw.
      const done = await this.deductions.apply(event.provider, event.paymentNo, event.result, 'notification', event.contractId);
      return done.outcome === 'paid' ? done.applied.result : `deduction_${done.outcome}`;
    }
    const { contractNo, contractId } = event.contract;
    const row = await this.contracts.findByNo(contractNo);
    if (!row || row.provider !== event.provider)
      throw new NotificationRejected('UNKNOWN_CONTRACT', 'the notification names no contract of ours');
    if (row.provider_contract_id && row.provider_contract_id !== contractId) {
      throw new NotificationRejected('UNKNOWN_CONTRACT', 'the notification names another contract under our number');
    }
    if (event.kind === 'signed') {
      const moved = await this.contracts.activate(event.provider, contractNo, contractId, event.signedAt);
      if (moved) this.logger.log(`contract ${contractNo} active (${event.provider} ${contractId})`);
      else if (row.status === 'cancelled' && !row.provider_contract_id) {
        // Signed after we released it (its order ended unpaid): nothing may renew under it, so it ends at the provider too.
        await this.agreements.find(event.provider)?.terminate({ contractId, contractNo }, '订单已关闭，签约作废');
        this.logger.warn(`contract ${contractNo} was signed after its order ended: terminated at ${event.provider}`);
        return 'terminated';
      }
      const signed = moved ?? row;
      // A resend of the signing asks again: the charge is one per order (busy while one is in flight, or once paid).
      if (signed.status === 'active' && signed.first_order_id) await this.firstPeriodAfterSigning(signed);
      return moved ? 'activated' : 'duplicate';
    }
    const ended = await this.contracts.end(event.provider, contractNo, event.by, event.endedAt);
    if (ended) {
      this.logger.log(`contract ${contractNo} cancelled by ${event.by}`);
      await this.renewals.abandonOpenCycle(ended.id);
      return 'cancelled';
    }
    return 'duplicate';
  }

  /**
   * Cancels a member's auto-renewal, for the member or for support (`actor`): a signed contract is
   * terminated at the provider first (idempotent there: an already ended contract answers not_found),
   * then recorded once, `ended_by` member or support; a contract never signed is only recorded. The
   * periods already paid stay. A provider failure changes nothing (502/504: try again). Cancelling a
   * contract that is over answers it as it is, and records nothing (nothing was done). Support's
   * cancel is written to the audit log in the transaction that ends the contract.
   */
  async cancelForMember(userId: string, actor: CancelActor = MEMBER, now = new Date()): Promise<ContractRow> {
    const contract = await this.contracts.latestOfUser(userId);
    if (!contract) throw new DomainError('NOT_FOUND', 'No auto-renewal contract for this member');
    if (!['pending', 'active', 'past_due'].includes(contract.status)) return contract;
    const adapter = contract.provider_contract_id ? this.agreements.find(contract.provider) : undefined;
    if (contract.provider_contract_id && !adapter)
      throw new DomainError('PROVIDER_UNAVAILABLE', 'Auto-renewal is off for this provider: the contract cannot be terminated now');
    const by: ContractEndedBy = actor.by;
    const ended = await this.contracts.end(contract.provider, contract.contract_no, by, now, {
      // Terminated at the provider while the row is held, so its notice of the ending finds it recorded as ours.
      first:
        adapter && contract.provider_contract_id
          ? () =>
              adapter.terminate(
                { contractId: contract.provider_contract_id!, contractNo: contract.contract_no },
                TERMINATION_REMARK[actor.by],
              )
          : undefined,
      then:
        actor.by === 'support'
          ? (m, row) =>
              appendAuditEntry(m, {
                ...actor.caller,
                action: 'auto_renewal.cancelled',
                targetType: 'member',
                target: userId,
                reason: actor.reason,
                detail: {
                  contract_no: row.contract_no,
                  provider: row.provider,
                  provider_contract_id: row.provider_contract_id,
                  status_before: contract.status,
                  amount: row.amount,
                },
              })
          : undefined,
    });
    if (ended) {
      this.logger.log(
        `contract ${contract.contract_no} cancelled by ${actor.by === 'support' ? `support (${actor.caller.actor})` : 'the member'}`,
      );
      // The renewal already under way is stopped: its order closed, a deduction that lands later returned.
      await this.renewals.abandonOpenCycle(ended.id, now);
    }
    return ended ?? ((await this.contracts.findByNo(contract.contract_no)) as ContractRow);
  }

  /** The contract an order was bought with or renews (support's order story); null for any other order. */
  contractOfOrder(orderId: string): Promise<(ContractRow & { renewal_cycle: number | null }) | null> {
    return this.contracts.ofOrder(orderId);
  }

  /** The member's most recent contract, open or not (support's member view); null when they never had one. */
  latestOfMember(userId: string): Promise<ContractRow | null> {
    return this.contracts.latestOfUser(userId);
  }

  /**
   * The first period of a contract signed without a payment (Alipay: `dut_user_sign` came, now the order
   * the member is buying is deducted under the agreement). `orderId` is the member's order linked to the
   * contract. One deduction, with a new payment number, through payments' deduction path: paid settles the
   * order through the one settle path (order.paid, the grant); failed leaves the order unpaid with the
   * provider's reason; pending/unknown are queried by the renewal job's deduction sweep, never sent again.
   * Safe to call twice: while a deduction of the order is in flight, or once the order is paid, nothing is
   * asked for (`busy`). Throws NOT_FOUND / CONFLICT for a contract or order that does not fit.
   */
  async chargeFirstPeriod(contractNo: string, orderId: string, now = new Date()): Promise<DeductionOutcome> {
    const contract = await this.contracts.findByNo(contractNo);
    if (!contract) throw new DomainError('NOT_FOUND', 'No such auto-renewal contract');
    if (contract.status !== 'active' || !contract.provider_contract_id)
      throw new ConflictError('AUTO_RENEW_INACTIVE', `The contract is ${contract.status}: nothing can be deducted under it`);
    const order = await this.orders.forCharge(orderId);
    if (!order || order.user_id !== contract.user_id || order.payment_method !== contract.provider)
      throw new DomainError('NOT_FOUND', "No such order of the contract's member with this provider");
    if (order.amount !== contract.amount)
      throw new ConflictError(
        'AUTO_RENEW_INACTIVE',
        `The order's amount (${order.amount} fen) is not the contract's (${contract.amount} fen)`,
      );
    return this.deductions.deduct(
      { orderId: order.id, method: contract.provider, amountFen: order.amount, description: order.description },
      { contractId: contract.provider_contract_id, contractNo: contract.contract_no },
      now,
    );
  }

  /**
   * Where the provider signs before anything is paid (`sign_only`: Alipay), the order the member bought
   * the contract with is charged at once under it. Its outcome is the order's: paid settles it; a
   * decline ends the contract at the provider and here (no period was bought, so nothing may renew),
   * and the order, never paid, expires; pending/unknown are the deduction query's. A contract or order
   * that does not fit is logged, not retried: a resend of the notification would not change it.
   */
  private async firstPeriodAfterSigning(contract: ContractRow): Promise<DeductionOutcome['outcome'] | null> {
    const adapter = this.agreements.find(contract.provider);
    if (adapter?.signing !== 'sign_only' || !contract.first_order_id) return null;
    let charged: DeductionOutcome;
    try {
      charged = await this.chargeFirstPeriod(contract.contract_no, contract.first_order_id);
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      this.logger.error(`contract ${contract.contract_no}: its first period cannot be charged (${e.message})`);
      return null;
    }
    if (charged.outcome !== 'failed') {
      this.logger.log(`contract ${contract.contract_no}: first period ${charged.outcome}`);
      return charged.outcome;
    }
    this.logger.warn(`contract ${contract.contract_no}: first period declined (${charged.reason}); the contract ends`);
    if (!charged.contractEnded && contract.provider_contract_id)
      await adapter.terminate({ contractId: contract.provider_contract_id, contractNo: contract.contract_no }, '首期扣款失败');
    await this.contracts.end(contract.provider, contract.contract_no, 'merchant', new Date());
    return 'failed';
  }

  /**
   * The renewal job's signing sweep, for one claimed contract (ContractsRepository.claimUnconfirmed):
   * - pending (the signing notification never came): the provider is asked by our number and plan. Signed
   *   → the very path of the notification (applyEvent: activated once by a conditional UPDATE, whichever of
   *   this and a late notification comes first; the other finds it active and changes nothing), with the
   *   first period charged where the provider signs first. Ended at the provider → recorded ended. Unknown
   *   to the provider while the first order is over (paid or not: a pay-and-sign order that was paid signed
   *   in the same step, so no signing is still to come) → released, so the member may sign again. Otherwise
   *   (the member may still sign) left, and looked at again later.
   * - active with its first order still unpaid where the provider signs first (the process stopped between
   *   the activation and the first charge): the first period is charged, once (`busy` while a deduction is
   *   in flight or once the order is paid).
   * Returns what was done; when the contract is to be looked at again (null: at once, by the renewal job).
   */
  async sweepSigning(
    contract: ContractRow,
    now: Date,
  ): Promise<{ done: 'activated' | 'charged' | 'released' | 'ended' | 'left'; lookAgainAt: Date | null }> {
    const later = new Date(now.getTime() + SWEEP_RECHECK_MS);
    const adapter = this.agreements.find(contract.provider);
    if (!adapter) return { done: 'left', lookAgainAt: later };
    if (contract.status === 'active') {
      const charged = await this.firstPeriodAfterSigning(contract);
      return {
        done: charged && charged !== 'busy' ? 'charged' : 'left',
        lookAgainAt: (await this.firstOrderOpen(contract)) ? later : null,
      };
    }
    const plan = await this.membership.plan(contract.plan_id);
    const found = await adapter.queryContract({ contractNo: contract.contract_no }, plan.code);
    if (found.state === 'active') {
      const handled = await this.applyEvent({
        kind: 'signed',
        provider: contract.provider,
        contract: found.contract,
        planCode: plan.code,
        signedAt: found.signedAt,
        payload: { confirmed_by: 'contract_query' },
      });
      if (handled === 'activated') this.logger.warn(`contract ${contract.contract_no}: signing never notified, confirmed by query`);
      const row = await this.contracts.findByNo(contract.contract_no);
      const open = row?.status === 'active' && (await this.firstOrderOpen(row));
      return { done: handled === 'activated' ? 'activated' : 'left', lookAgainAt: open ? later : null };
    }
    if (found.state === 'ended') {
      const ended = await this.contracts.endPending(contract.contract_no, 'provider', now, {
        providerContractId: found.contract.contractId,
        signedAt: found.signedAt,
      });
      if (ended) this.logger.warn(`contract ${contract.contract_no}: signed and ended at ${contract.provider} without notice`);
      return { done: ended ? 'ended' : 'left', lookAgainAt: null };
    }
    if (await this.firstOrderOpen(contract)) return { done: 'left', lookAgainAt: later };
    const released = await this.contracts.endPending(contract.contract_no, 'merchant', now);
    if (released)
      this.logger.warn(`contract ${contract.contract_no}: never signed at ${contract.provider} and its order is over: released`);
    return { done: released ? 'released' : 'left', lookAgainAt: null };
  }

  /** Whether the contract's first order is still waiting to be paid (a contract without one: no). */
  private async firstOrderOpen(contract: ContractRow): Promise<boolean> {
    if (!contract.first_order_id) return false;
    return (await this.orders.forCharge(contract.first_order_id))?.status === 'pending';
  }

  findByNo(contractNo: string): Promise<ContractRow | null> {
    return this.contracts.findByNo(contractNo);
  }
}
