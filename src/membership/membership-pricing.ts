import { ConflictError } from '../common/errors/domain-error';
import type { MembershipPlan } from './membership-plan.entity';

export type PurchaseKind = 'purchase' | 'renewal' | 'upgrade';

export interface CurrentMembership {
  level: number;
  expiresAt: Date;
  plan: Pick<MembershipPlan, 'priceFen' | 'durationDays'>;
}

export interface Quote { kind: PurchaseKind; amountFen: number }

const DAY_MS = 86_400_000n;

/**
 * The price of a plan for a member (issue 4): a new purchase or a same-level renewal costs the
 * plan price; an upgrade costs the difference of the daily prices times the remaining time,
 * rounded up to the fen, at least 1 fen. Integer arithmetic throughout (BigInt for the products).
 */
export function quote(plan: MembershipPlan, current: CurrentMembership | null, isUpgrade: boolean, now: Date): Quote {
  const active = current && current.expiresAt.getTime() > now.getTime() ? current : null;
  if (!active) {
    if (isUpgrade) {
      throw new ConflictError('MEMBERSHIP_CONFLICT', 'There is no active membership to upgrade: buy the plan with is_upgrade set to false');
    }
    return { kind: 'purchase', amountFen: plan.priceFen };
  }
  if (active.level === plan.level) {
    if (isUpgrade) {
      throw new ConflictError('MEMBERSHIP_CONFLICT', 'Your membership is already at this level: renew it with is_upgrade set to false');
    }
    return { kind: 'renewal', amountFen: plan.priceFen };
  }
  if (active.level > plan.level) {
    throw new ConflictError('MEMBERSHIP_CONFLICT',
      'Your active membership is of a higher level: renew a plan of your current level, or buy this one after it expires');
  }
  if (!isUpgrade) {
    throw new ConflictError('MEMBERSHIP_CONFLICT',
      'You have an active lower-level membership: upgrade it with is_upgrade set to true, or renew a plan of your current level');
  }
  return { kind: 'upgrade', amountFen: upgradePriceFen(plan, active, now) };
}

export function upgradePriceFen(plan: Pick<MembershipPlan, 'priceFen' | 'durationDays'>, current: CurrentMembership, now: Date): number {
  const remainingMs = BigInt(Math.max(0, current.expiresAt.getTime() - now.getTime()));
  // (Pn/Dn - Pc/Dc) * remaining = (Pn*Dc - Pc*Dn) * remaining / (Dn*Dc*day)
  const numerator = (BigInt(plan.priceFen) * BigInt(current.plan.durationDays)
    - BigInt(current.plan.priceFen) * BigInt(plan.durationDays)) * remainingMs;
  const denominator = BigInt(plan.durationDays) * BigInt(current.plan.durationDays) * DAY_MS;
  if (numerator <= 0n) return 1;
  const fen = (numerator + denominator - 1n) / denominator;
  return Number(fen < 1n ? 1n : fen);
}
