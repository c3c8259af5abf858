import type { EntityManager } from 'typeorm';
import type { ProviderName } from '../payments/provider-name';

/** The contract an order bought with auto-renewal opens, as orders needs to know it. */
export interface OrderContract {
  /** Our number for it (WeChat Pay contract_code, Alipay external_agreement_no). */
  contractNo: string;
}

/** What a new auto-renewal order asks for: the member, the provider, the plan it renews and every renewal's price. */
export interface ContractForOrder {
  orderId: string;
  userId: string;
  provider: ProviderName;
  plan: { id: number; code: string };
  /** Every renewal's amount, fixed now: the plan's price (an upgrade's first payment is only a difference). */
  renewalFen: number;
}

/**
 * What orders asks of the module that owns auto-renewal contracts. That module (subscriptions) sits
 * above orders, so orders declares what it needs here and subscriptions provides it under this class
 * (a global provider), as payments reaches orders through PaidOrders.
 */
export abstract class OrderContracts {
  /**
   * A pending contract for the order being created, on the order's transaction (both commit or
   * neither). Throws 409 AUTO_RENEW_ACTIVE when the member has one open already.
   */
  abstract openForOrder(m: EntityManager, order: ContractForOrder, now: Date): Promise<OrderContract>;
  /**
   * The order whose signing the member's open contract still waits for (the contract is pending),
   * or null: a new auto-renewal order supersedes it while it is unpaid.
   */
  abstract pendingSigningOf(userId: string): Promise<string | null>;
  /** The order ended without being paid (closed, expired, failed): its contract, never signed, is over. On the order's transaction. */
  abstract releaseForOrder(m: EntityManager, orderId: string, now: Date): Promise<void>;
  /**
   * An upgrade: the member's open contract would renew the lower level, so it is ended at its
   * provider, then recorded (a contract signed with `exceptOrderId` stays). Called before an upgrade
   * with auto-renewal opens its own contract, and after a paid upgrade without it has committed.
   */
  abstract endForUpgrade(userId: string, exceptOrderId: string | null, now: Date): Promise<void>;
}
