import type { MembershipPlan } from './membership-plan.entity';
import type { UserMembership } from './user-membership.entity';

export interface PlanView {
  id: number;
  code: string;
  name: string;
  level: number;
  duration_days: number;
  /** fen */
  price: number;
}

export interface MembershipView {
  user_id: string;
  active: boolean;
  level: number | null;
  plan: PlanView | null;
  started_at: string | null;
  expires_at: string | null;
}

export const toPlanView = (p: MembershipPlan): PlanView => ({
  id: p.id, code: p.code, name: p.name, level: p.level, duration_days: p.durationDays, price: p.priceFen,
});

export function toMembershipView(userId: string, m: UserMembership | null, now: Date): MembershipView {
  if (!m || m.level === 0) {
    return { user_id: userId, active: false, level: null, plan: null, started_at: null, expires_at: null };
  }
  return {
    user_id: userId,
    active: m.expiresAt.getTime() > now.getTime(),
    level: m.level,
    plan: m.plan ? toPlanView(m.plan) : null,
    started_at: m.startedAt.toISOString(),
    expires_at: m.expiresAt.toISOString(),
  };
}
