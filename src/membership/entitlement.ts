import { ApiProperty } from '@nestjs/swagger';
import { PeriodView } from './membership.views';

/** What another service needs to know of a member: whether, at which level, until when. */
export class EntitlementView {
  @ApiProperty({ example: '42' }) user_id: string;
  @ApiProperty({ description: 'true while a period covers the instant asked (ends_at excluded)' }) active: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'the level held now; null when none' }) level: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'the plan of the period running now' }) plan_code: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'the end of the coverage (past when it has lapsed; null for someone never a member)',
  })
  expires_at: string | null;
  @ApiProperty({ description: 'false until auto-renewal exists: there is no grace period yet' }) in_grace: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) grace_ends_at: string | null;
  @ApiProperty({ description: 'false until auto-renewal exists' }) auto_renew: boolean;
  @ApiProperty({ type: [PeriodView], description: 'current and future periods, in time order' }) periods: PeriodView[];
}

export class EntitlementList {
  @ApiProperty({ type: [EntitlementView] }) data: EntitlementView[];
}

/**
 * The entitlement at `now` from a member's periods (time order; past ones may be included). A
 * period covers [starts_at, ends_at): a member whose last period ended a millisecond ago is not active.
 */
export function entitlementAt(userId: string, periods: readonly PeriodView[], now: Date): EntitlementView {
  const t = now.getTime();
  const ahead = periods.filter((p) => Date.parse(p.ends_at) > t);
  const running = ahead.find((p) => Date.parse(p.starts_at) <= t);
  const last = periods[periods.length - 1];
  return {
    user_id: userId,
    active: !!running,
    level: running ? running.level : null,
    plan_code: running ? running.plan_code : null,
    expires_at: last ? last.ends_at : null,
    in_grace: false,
    grace_ends_at: null,
    auto_renew: false,
    periods: ahead,
  };
}
