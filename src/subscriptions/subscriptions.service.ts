import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AdminCaller } from '../audit/audit-log';
import { appendAuditEntry } from '../audit/audit-log.repository';
import { DomainError } from '../common/errors/domain-error';
import { newContractNo } from '../common/trade-numbers';
import type { ContractEvent } from '../payments/payment-provider';
import { NotificationRejected } from '../payments/payment-provider';
import { AgreementRegistry } from '../payments/agreement-registry';
import { NotificationRouter, type HandledAs } from '../payments/notification-router';
import type { ProviderName } from '../payments/provider-name';
import type { ContractEndedBy } from './contract.entity';
import { ContractsRepository, OpenContractExists, type ContractRow } from './contracts.repository';

/**
 * Who ends a member's auto-renewal from our side: the member (from the app), or support for them,
 * whose cancel is recorded in the admin audit log with who, from where and why, in the transaction
 * that ends the contract.
 */
export type CancelActor = { by: 'member' } | { by: 'support'; caller: AdminCaller; reason: string };
const MEMBER: CancelActor = { by: 'member' };

/** What the provider is told (its own record of why the contract ended); support's reason stays ours. */
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
      // No renewal job deducts yet, so no deduction of ours can be reported.
      throw new NotificationRejected('UNEXPECTED_EVENT', 'deduction results are not handled by this service yet');
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
      if (moved) {
        this.logger.log(`contract ${contractNo} active (${event.provider} ${contractId})`);
        return 'activated';
      }
      return 'duplicate';
    }
    const ended = await this.contracts.end(event.provider, contractNo, event.by, event.endedAt);
    if (ended) {
      this.logger.log(`contract ${contractNo} cancelled by ${event.by}`);
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
    if (contract.provider_contract_id) {
      const adapter = this.agreements.find(contract.provider);
      if (!adapter)
        throw new DomainError('PROVIDER_UNAVAILABLE', 'Auto-renewal is off for this provider: the contract cannot be terminated now');
      await adapter.terminate(
        { contractId: contract.provider_contract_id, contractNo: contract.contract_no },
        TERMINATION_REMARK[actor.by],
      );
    }
    const by: ContractEndedBy = actor.by;
    const ended = await this.contracts.end(
      contract.provider,
      contract.contract_no,
      by,
      now,
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
    );
    if (ended)
      this.logger.log(
        `contract ${contract.contract_no} cancelled by ${actor.by === 'support' ? `support (${actor.caller.actor})` : 'the member'}`,
      );
    return ended ?? ((await this.contracts.findByNo(contract.contract_no)) as ContractRow);
  }

  /** The member's most recent contract, open or not (support's member view); null when they never had one. */
  latestOfMember(userId: string): Promise<ContractRow | null> {
    return this.contracts.latestOfUser(userId);
  }

  findByNo(contractNo: string): Promise<ContractRow | null> {
    return this.contracts.findByNo(contractNo);
  }
}
