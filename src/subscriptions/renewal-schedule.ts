import type { ProviderName } from '../payments/provider-name';

/**
 * When the renewal job does what, for one contract's cycle: a pure function of the contract, its cycle
 * and the time, so the job, `npm run renewals -- --dry-run` and the tests decide alike.
 */

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const BEIJING_OFFSET_MS = 8 * HOUR;

/** membership.renewal_upcoming goes out this long before T (the reminder the rules for auto-renewal require). */
export const REMINDER_LEAD_MS = 5 * DAY;
/** The merchant's pre-deduction notice (WeChat Pay merchant templates) goes out from this long before T… */
export const NOTICE_LEAD_MS = 3 * DAY;
/** …and no deduction comes sooner than this after it (WeChat asks for at least two days). */
export const NOTICE_TO_DEDUCTION_MS = 2 * DAY;
/**
 * Deductions are asked for from this long before T: WeChat Pay charges a template that notifies the
 * member itself about a day after pappayapply (ACCEPT meanwhile), and Alipay's period rule lets the
 * deduction run on the days before execute_time; either way the money is in by T, and the period the
 * grant appends starts exactly at T (the member's paid end), with no gap and no overlap.
 */
export const DEDUCTION_LEAD_MS = DAY;
/** WeChat Pay takes deductions only from 07:00 to 22:00 Beijing time. */
const WECHAT_WINDOW = { from: 7, to: 22 };
/** A failed try is tried again on the next day, from this hour (Beijing time). */
const RETRY_HOUR = 7;

/** The first instant at or after `t` when the provider takes a deduction. */
export function deductionWindowFrom(provider: ProviderName, t: Date): Date {
  if (provider !== 'wechat') return t;
  const local = new Date(t.getTime() + BEIJING_OFFSET_MS);
  const hour = local.getUTCHours();
  if (hour >= WECHAT_WINDOW.from && hour < WECHAT_WINDOW.to) return t;
  const day = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) + (hour >= WECHAT_WINDOW.to ? DAY : 0);
  return new Date(day + WECHAT_WINDOW.from * HOUR - BEIJING_OFFSET_MS);
}

/** The next day's first allowed moment after a failed try (07:00 Beijing time, the day after `t`). */
export function nextTryAfter(t: Date): Date {
  const local = new Date(t.getTime() + BEIJING_OFFSET_MS);
  const nextDay = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) + DAY;
  return new Date(nextDay + RETRY_HOUR * HOUR - BEIJING_OFFSET_MS);
}

export interface CycleState {
  status: 'open' | 'paid' | 'failed' | 'abandoned';
  tries: number;
  nextTryAt: Date | null;
  remindedAt: Date | null;
  noticedAt: Date | null;
  /** The cycle's renewal order was paid (by any path). */
  orderPaid: boolean;
  /** A deduction of the cycle's order is in flight (pending). */
  deductionInFlight: boolean;
}

export interface ContractState {
  provider: ProviderName;
  /** T of the coming cycle; null until the job first sees the contract. */
  nextRenewalAt: Date | null;
  graceEndsAt: Date | null;
  /** The provider must be told by us before each deduction (WeChat Pay merchant notice). */
  merchantNotice: boolean;
}

/** What to do next for a contract, one step at a time; `wait` says until when nothing is to be done. */
export type RenewalStep =
  | { step: 'init' }
  | { step: 'open_cycle' }
  | { step: 'advance' }
  | { step: 'remind' }
  | { step: 'notice' }
  | { step: 'query' }
  | { step: 'record_failure' }
  | { step: 'lapse'; reason: string }
  | { step: 'deduct' }
  | { step: 'wait'; until: Date | null };

export function nextStep(c: ContractState, cycle: CycleState | null, now: Date, retryMax: number): RenewalStep {
  const T = c.nextRenewalAt;
  if (!T) return { step: 'init' };
  const at = now.getTime();
  if (at < T.getTime() - REMINDER_LEAD_MS) return { step: 'wait', until: new Date(T.getTime() - REMINDER_LEAD_MS) };
  if (!cycle) return { step: 'open_cycle' };
  if (cycle.orderPaid) return cycle.status === 'open' ? { step: 'advance' } : { step: 'wait', until: null };
  if (cycle.status !== 'open') return { step: 'wait', until: null };
  if (!cycle.remindedAt) return { step: 'remind' };
  if (cycle.deductionInFlight) return { step: 'query' };
  if (cycle.tries > 0 && !cycle.nextTryAt) return { step: 'record_failure' };
  if (cycle.tries >= retryMax) return { step: 'lapse', reason: 'RETRIES_EXHAUSTED' };
  if (c.graceEndsAt && at >= c.graceEndsAt.getTime()) return { step: 'lapse', reason: 'GRACE_ENDED' };
  if (c.merchantNotice && !cycle.noticedAt) {
    const noticeAt = T.getTime() - NOTICE_LEAD_MS;
    return at >= noticeAt ? { step: 'notice' } : { step: 'wait', until: new Date(noticeAt) };
  }
  const earliest = Math.max(
    T.getTime() - DEDUCTION_LEAD_MS,
    cycle.nextTryAt?.getTime() ?? 0,
    c.merchantNotice && cycle.noticedAt ? cycle.noticedAt.getTime() + NOTICE_TO_DEDUCTION_MS : 0,
  );
  const opens = deductionWindowFrom(c.provider, new Date(Math.max(earliest, at)));
  if (opens.getTime() > at) {
    const graceEnd = c.graceEndsAt?.getTime() ?? Infinity;
    return { step: 'wait', until: new Date(Math.min(opens.getTime(), graceEnd)) };
  }
  return { step: 'deduct' };
}
