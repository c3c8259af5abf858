/** A member's auto-renewal contract, as membership shows it beside the periods. */
export interface MemberContract {
  status: 'pending' | 'active' | 'past_due' | 'cancelled' | 'lapsed';
  /** The provider's name (wechat, alipay): shown, never called from here. */
  provider: string;
  planId: number;
  /** Every renewal's amount, in fen, fixed at signing. */
  amountFen: number;
  signedAt: Date | null;
  cancelledAt: Date | null;
  /** past_due: access is kept until then while renewals are retried; null otherwise. */
  graceEndsAt: Date | null;
}

/**
 * What membership shows of auto-renewal: which plans can be bought with it, and each member's
 * contract. Contracts are the subscriptions module's, above membership, which provides this under
 * this class (a global provider); membership never reaches up to it otherwise.
 */
export abstract class AutoRenewals {
  /**
   * The providers that can sign a contract renewing this plan (empty: it cannot be bought with
   * auto-renewal), and of those the ones that can sign with an upgrade (where paying and signing are
   * one step: an upgrade's first payment is only a difference).
   */
  abstract providersFor(planCode: string): { methods: string[]; upgradeMethods: string[] };
  /** The contract each member sees (the open one, else the last signed); members without one are absent. */
  abstract ofMembers(userIds: readonly string[]): Promise<Map<string, MemberContract>>;
}
