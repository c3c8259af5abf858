import { ConflictError } from '../common/errors/domain-error';
import type { MembershipPlan } from './membership-plan.entity';

export type PurchaseKind = 'purchase' | 'renewal' | 'upgrade';

/** A plan's price over its days: the daily price the pricing rules reckon with. */
export type PlanPrice = Pick<MembershipPlan, 'priceFen' | 'durationDays'>;

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
  const { numerator, denominator } = upgradeValue(plan, remaining);
  if (numerator <= 0n) return 1;
  const fen = (numerator + denominator - 1n) / denominator;
  return Number(fen < 1n ? 1n : fen);
}

/**
 * What an upgrade returns for the time it was priced on and did not convert (its days ran before it
 * was paid, or a refund took them): what is paid for its time (`paidFen`) less what the time it does
 * convert is worth to the member, each converted span at the daily difference of the plan that
 * bought it, rounded down; between 0 and `paidFen`. The days it misses are not an average of the
 * days it was priced on (the ones that ran are the first in line), so a share of the price in
 * proportion to the time missed could return more than those days were worth, or less.
 */
export function upgradeShortfallFen(plan: PlanPrice, paidFen: number, converted: { ms: number; plan: PlanPrice }[]): number {
  if (paidFen <= 0) return 0;
  const { numerator, denominator } = upgradeValue(plan, converted);
  const left = BigInt(paidFen) * denominator - numerator;
  if (left <= 0n) return 0;
  const fen = left / denominator;
  return Number(fen > BigInt(paidFen) ? BigInt(paidFen) : fen);
}

/**
 * How much of an upgrade's converted time to take back, from the end (the spans in the order they
 * run, the last ones first), so that what it keeps is worth no more than `paidFen`, each span at its
 * daily difference: the least such time, to the millisecond. A refund of part of an upgrade's price
 * takes back time in proportion to it; when the days run first are the dearer ones, what is kept is
 * worth more than its share, and this is the rest to take back.
 */
export function upgradeExcessMs(plan: PlanPrice, paidFen: number, converted: { ms: number; plan: PlanPrice }[]): number {
  const { weights, denominator } = upgradeWeights(plan, converted);
  let excess = weights.reduce((sum, w, i) => sum + w * BigInt(Math.max(0, converted[i].ms)), 0n) - BigInt(paidFen) * denominator;
  let removed = 0;
  for (let i = converted.length - 1; i >= 0 && excess > 0n; i--) {
    const ms = Math.max(0, converted[i].ms);
    const w = weights[i];
    // A span worth nothing (or less) to the upgrade goes whole: the time before it is what is kept.
    const take = w > 0n ? Math.min(ms, Number((excess + w - 1n) / w)) : ms;
    excess -= w * BigInt(take);
    removed += take;
  }
  return removed;
}

/**
 * Σ (Pn/Dn − Pc/Dc) × ms over the spans, as the exact fraction numerator / denominator fen.
 * Integer arithmetic throughout (BigInt: the products outgrow a double's integers).
 */
function upgradeValue(plan: PlanPrice, spans: { ms: number; plan: PlanPrice }[]): { numerator: bigint; denominator: bigint } {
  const { weights, denominator } = upgradeWeights(plan, spans);
  const numerator = weights.reduce((sum, w, i) => sum + w * BigInt(Math.max(0, spans[i].ms)), 0n);
  return { numerator, denominator };
}

/** Each span's worth per millisecond, (Pn/Dn − Pc/Dc) / day, as weight / denominator over one common denominator. */
function upgradeWeights(plan: PlanPrice, spans: { ms: number; plan: PlanPrice }[]): { weights: bigint[]; denominator: bigint } {
  // Common denominator Dn × Π Dc_i × day: each (Pn·Dc − Pc·Dn) / (Dn·Dc·day) scaled to it.
  const dn = BigInt(plan.durationDays);
  const denominators = spans.map((r) => BigInt(r.plan.durationDays));
  const common = denominators.reduce((a, b) => a * b, dn * DAY_MS);
  const weights = spans.map((r, i) => {
    const dc = denominators[i];
    return (BigInt(plan.priceFen) * dc - BigInt(r.plan.priceFen) * dn) * (common / (dn * dc * DAY_MS));
  });
  return { weights, denominator: common };
}
