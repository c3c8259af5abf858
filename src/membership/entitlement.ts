import { ApiProperty } from '@nestjs/swagger';
import type { MemberContract } from './auto-renewals';
import { PeriodView } from './membership.views';

/** What another service needs to know of a member: whether, at which level, until when. */
export class EntitlementView {
  @ApiProperty({ example: '42' }) user_id: string;
  @ApiProperty({
    description: 'true while a period covers the instant asked (ends_at excluded), or while a failed renewal is in grace (in_grace)',
  })
  active: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'the level held now (in grace: the level that lapsed); null when none' })
  level: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'the plan of the period running now' }) plan_code: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'the end of the coverage (past when it has lapsed; null for someone never a member)',
  })
  expires_at: string | null;
  @ApiProperty({
    description:
      'true while a failed renewal is retried and the paid time is over: access is kept until grace_ends_at (grace is never a paid period)',
  })
  in_grace: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'the end of the grace, while the contract is past_due' })
  grace_ends_at: string | null;
  @ApiProperty({ description: 'true while an auto-renewal contract renews the membership (active, or past_due with retries running)' })
  auto_renew: boolean;
  @ApiProperty({ type: [PeriodView], description: 'current and future periods, in time order' }) periods: PeriodView[];
}

export class EntitlementList {
  @ApiProperty({ type: [EntitlementView] }) data: EntitlementView[];
}

/**
 * The entitlement at `now` from a member's periods (time order; past ones may be included). A
 * period covers [starts_at, ends_at): a member whose last period ended a millisecond ago is not active.
 */
export function entitlementAt(userId: string, periods: readonly PeriodView[], now: Date, contract?: MemberContract): EntitlementView {
  const t = now.getTime();
  const renewing = contract?.status === 'active' || contract?.status === 'past_due';
  const graceEnd = contract?.status === 'past_due' && contract.graceEndsAt ? new Date(contract.graceEndsAt) : null;
  const ahead = periods.filter((p) => Date.parse(p.ends_at) > t);
  const running = ahead.find((p) => Date.parse(p.starts_at) <= t);
  const last = periods[periods.length - 1];
  // A renewal that failed keeps the member's access until the grace ends, at the level the paid time
  // ended with; grace is never a period, so the periods and expires_at stay the paid ones.
  const inGrace = !running && !!graceEnd && !!last && t < graceEnd.getTime();
  const held = running ?? (inGrace ? last : undefined);
  return {
    user_id: userId,
    active: !!held,
    level: held ? held.level : null,
    plan_code: held ? held.plan_code : null,
    expires_at: last ? last.ends_at : null,
    in_grace: inGrace,
    grace_ends_at: graceEnd ? graceEnd.toISOString() : null,
    auto_renew: renewing,
    periods: ahead,
  };
}
