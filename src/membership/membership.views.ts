import { ApiProperty } from '@nestjs/swagger';
import type { MembershipPlan } from './membership-plan.entity';
import type { UserMembership } from './user-membership.entity';

export class PlanView {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ example: 'basic_monthly' }) code: string;
  @ApiProperty({ example: 'Basic, monthly' }) name: string;
  @ApiProperty({ example: 1, description: 'higher is better' }) level: number;
  @ApiProperty({ example: 30 }) duration_days: number;
  @ApiProperty({ example: 1990, description: 'fen (1/100 CNY)' }) price: number;
}

export class MembershipView {
  @ApiProperty() user_id: string;
  @ApiProperty({ description: 'true while expires_at is in the future' }) active: boolean;
  @ApiProperty({ type: Number, nullable: true }) level: number | null;
  @ApiProperty({ type: PlanView, nullable: true }) plan: PlanView | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at: string | null;
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
