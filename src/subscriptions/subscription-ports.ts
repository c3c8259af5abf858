import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { newContractNo } from '../common/trade-numbers';
import { AutoRenewals, type MemberContract } from '../membership/auto-renewals';
import { OrderContracts, type ContractForOrder, type OrderContract } from '../orders/order-contracts';
import { AgreementRegistry } from '../payments/agreement-registry';
import { PROVIDER_NAMES } from '../payments/provider-name';
import { ContractsRepository, OpenContractExists } from './contracts.repository';

const autoRenewActive = () =>
  new DomainError(
    'AUTO_RENEW_ACTIVE',
    'An auto-renewal contract is already open for this member: cancel it (POST /api/v1/membership/auto-renew/cancel) before signing another',
  );

/**
 * What the modules below subscriptions ask of contracts, through the ports they declare: orders opens
 * and releases the contract of an order bought with auto-renewal and ends one an upgrade leaves
 * behind (OrderContracts); membership shows which plans renew and each member's contract
 * (AutoRenewals). It depends on the contracts' repository and the agreement adapters only, so that
 * SubscriptionsService may depend on orders without a cycle.
 */
@Injectable()
export class SubscriptionPorts implements OrderContracts, AutoRenewals {
  private readonly logger = new Logger('Subscriptions');

  constructor(
    private readonly contracts: ContractsRepository,
    private readonly agreements: AgreementRegistry,
  ) {}

  async openForOrder(m: EntityManager, order: ContractForOrder, now: Date): Promise<OrderContract> {
    // The usual refusal without a failed statement; the unique index still decides a race.
    if (await this.contracts.openOfUser(order.userId, m)) throw autoRenewActive();
    try {
      const row = await this.contracts.insertPending(
        {
          contractNo: newContractNo(now),
          userId: order.userId,
          provider: order.provider,
          planId: order.plan.id,
          amountFen: order.renewalFen,
          firstOrderId: order.orderId,
        },
        m,
      );
      return { contractNo: row.contract_no };
    } catch (e) {
      if (e instanceof OpenContractExists) throw autoRenewActive();
      throw e;
    }
  }

  async pendingSigningOf(userId: string): Promise<string | null> {
    const open = await this.contracts.openOfUser(userId);
    return open?.status === 'pending' ? open.first_order_id : null;
  }

  async releaseForOrder(m: EntityManager, orderId: string, now: Date): Promise<void> {
    const released = await this.contracts.releaseByOrder(m, orderId, now);
    if (released) this.logger.log(`contract ${released.contract_no} released: its order ended unpaid`);
  }

  /**
   * Ends the member's open contract, unless it is the one signed with `exceptOrderId`: terminated at
   * the provider first when it was signed (a provider failure throws and changes nothing), then
   * recorded as ended by us.
   */
  async endForUpgrade(userId: string, exceptOrderId: string | null, now: Date): Promise<void> {
    const open = await this.contracts.openOfUser(userId);
    if (!open || (exceptOrderId && open.first_order_id === exceptOrderId)) return;
    if (open.provider_contract_id) {
      const adapter = this.agreements.find(open.provider);
      if (!adapter)
        throw new DomainError('PROVIDER_UNAVAILABLE', 'Auto-renewal is off for this provider: the contract cannot be terminated now');
      await adapter.terminate({ contractId: open.provider_contract_id, contractNo: open.contract_no }, '会员升级，原自动续费终止');
    }
    if (await this.contracts.end(open.provider, open.contract_no, 'merchant', now))
      this.logger.log(`contract ${open.contract_no} ended: the member upgraded above its plan`);
  }

  providersFor(planCode: string): { methods: string[]; upgradeMethods: string[] } {
    const methods = PROVIDER_NAMES.filter((name) => this.agreements.find(name)?.supportsPlan(planCode));
    return { methods, upgradeMethods: methods.filter((name) => this.agreements.find(name)?.signing === 'pay_and_sign') };
  }

  async ofMembers(userIds: readonly string[]): Promise<Map<string, MemberContract>> {
    const rows = await this.contracts.shownOfUsers(userIds);
    return new Map(
      rows.map((r) => [
        r.user_id,
        {
          status: r.status,
          provider: r.provider,
          planId: r.plan_id,
          amountFen: r.amount,
          signedAt: r.signed_at,
          cancelledAt: r.ended_at,
          graceEndsAt: r.status === 'past_due' ? r.grace_ends_at : null,
        },
      ]),
    );
  }
}
