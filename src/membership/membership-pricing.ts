import { ConflictError } from '../common/errors/domain-error';
import type { MembershipPlan } from './membership-plan.entity';

export type PurchaseKind = 'purchase' | 'renewal' | 'upgrade';

type PlanPrice = Pick<MembershipPlan, 'priceFen' | 'durationDays'>;

/**
 * What the member holds now, as the pricing rules see it: the level running now and the days of
 * that level still to run, each with the plan it was bought at (a member may hold days of one
 * level bought at different daily prices, e.g. a monthly and a yearly plan).
 */
export interface CurrentStanding {
  level: number;
  remaining: { ms: number; plan: PlanPrice }[];
}

export interface Quote {
  kind: PurchaseKind;
  amountFen: number;
  /** For an upgrade: the days it converts (those of `fromLevel` left at quoting), as the ledger will apply them. */
  upgrade?: { fromLevel: number; ms: number };
}

const DAY_MS = 86_400_000n;

/**
 * The price of a plan for a member: a new purchase or a same-level renewal costs the plan price; an
 * upgrade costs the difference of the daily prices over the current level's remaining days only,
 * rounded up to the fen, at least 1 fen. Integer arithmetic throughout (BigInt for the products).
 */
export function quote(plan: MembershipPlan, current: CurrentStanding | null, isUpgrade: boolean): Quote {
  const active = current && current.level > 0 && current.remaining.some((r) => r.ms > 0) ? current : null;
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
    throw new ConflictError(
      'MEMBERSHIP_CONFLICT',
      'Your active membership is of a higher level: renew a plan of your current level, or buy this one after it expires',
    );
  }
  if (!isUpgrade) {
    throw new ConflictError(
      'MEMBERSHIP_CONFLICT',
      'You have an active lower-level membership: upgrade it with is_upgrade set to true, or renew a plan of your current level',
    );
  }
  const ms = active.remaining.reduce((sum, r) => sum + r.ms, 0);
  return { kind: 'upgrade', amountFen: upgradePriceFen(plan, active.remaining), upgrade: { fromLevel: active.level, ms } };
}

/**
 * Σ over the remaining spans of (Pn/Dn − Pc/Dc) × remaining, as one exact fraction, rounded up once.
 * Each span is priced at the daily price of the plan that bought it.
 */
export function upgradePriceFen(plan: PlanPrice, remaining: { ms: number; plan: PlanPrice }[]): number {
  // Common denominator Dn × Π Dc_i × day: each term (Pn·Dc − Pc·Dn)·ms / (Dn·Dc·day) scaled to it.
  const dn = BigInt(plan.durationDays);
  const denominators = remaining.map((r) => BigInt(r.plan.durationDays));
  const common = denominators.reduce((a, b) => a * b, dn * DAY_MS);
  let numerator = 0n;
  remaining.forEach((r, i) => {
    const dc = denominators[i];
    const term = (BigInt(plan.priceFen) * dc - BigInt(r.plan.priceFen) * dn) * BigInt(Math.max(0, r.ms));
    numerator += term * (common / (dn * dc * DAY_MS));
  });
  if (numerator <= 0n) return 1;
  const fen = (numerator + common - 1n) / common;
  return Number(fen < 1n ? 1n : fen);
}

/**
 * The part of an upgrade's price that the member did not receive because fewer of the days it was
 * priced on were left when it was paid: the price in proportion, rounded down (never more than paid).
 */
export function shortfallFen(amountFen: number, quotedMs: number, shortfallMs: number): number {
  if (quotedMs <= 0 || shortfallMs <= 0) return 0;
  return Number((BigInt(amountFen) * BigInt(Math.min(shortfallMs, quotedMs))) / BigInt(quotedMs));
}
