import { ApiProperty } from '@nestjs/swagger';
import type { MembershipPlan } from './membership-plan.entity';
import type { PurchaseKind } from './membership-pricing';

export class PlanView {
  @ApiProperty({ example: 1 }) id: number;
  @ApiProperty({ example: 'basic_monthly' }) code: string;
  @ApiProperty({ example: 'Basic, monthly' }) name: string;
  @ApiProperty({ type: String, nullable: true, example: '基础会员·月度', description: 'the name in Chinese (null: show name)' })
  name_zh: string | null;
  @ApiProperty({ example: 1, description: 'higher is better' }) level: number;
  @ApiProperty({ example: 30 }) duration_days: number;
  @ApiProperty({ example: 1990, description: 'fen (1/100 CNY)' }) price: number;
}

export class PeriodView {
  @ApiProperty({ example: 2 }) level: number;
  @ApiProperty({ example: 'premium_monthly' }) plan_code: string;
  @ApiProperty({ format: 'date-time' }) starts_at: string;
  @ApiProperty({ format: 'date-time' }) ends_at: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the order that bought these days (null for a membership older than the ledger)',
  })
  order_no: string | null;
}

/** A plan as GET /plans lists it: with whether it can be bought with auto-renewal, and at what renewal price. */
export class PlanListing extends PlanView {
  @ApiProperty({ description: 'true when it can be bought with auto-renewal (create-order auto_renew) with at least one provider' })
  auto_renew: boolean;
  @ApiProperty({ type: [String], example: ['wechat', 'alipay'], description: 'the payment methods that can sign its auto-renewal' })
  auto_renew_methods: string[];
  @ApiProperty({
    type: [String],
    example: ['wechat'],
    description: 'of those, the methods that can also sign with an upgrade (where paying and signing are one step)',
  })
  auto_renew_upgrade_methods: string[];
  @ApiProperty({
    type: Number,
    nullable: true,
    example: 1990,
    description: 'fen charged at every renewal (the plan price, fixed for a contract when it is signed); null when it cannot renew',
  })
  renewal_amount: number | null;
}

/** A member's auto-renewal contract, as /me shows it. */
export class AutoRenewView {
  @ApiProperty({
    enum: ['pending', 'active', 'past_due', 'cancelled', 'lapsed'],
    description:
      'pending: paid, the signature not confirmed yet; past_due: a renewal failed and is being retried, access kept until grace_ends_at',
  })
  status: string;
  @ApiProperty({ enum: ['wechat', 'alipay'] }) provider: string;
  @ApiProperty({ type: String, nullable: true, example: 'basic_monthly' }) plan_code: string | null;
  @ApiProperty({ example: 1990, description: 'fen charged at every renewal' }) amount: number;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'when the next renewal is charged (the end of the paid time) while the contract is active; null otherwise',
  })
  next_renewal_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) signed_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) cancelled_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'past_due only: access is kept until then' })
  grace_ends_at: string | null;
}

/** What a member holds: the level now, the end of all coverage, and the periods current and to come. */
export class MembershipSnapshot {
  @ApiProperty({ type: Number, nullable: true, description: 'the level held now; null when none' }) level: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'the end of all coverage' }) expires_at: string | null;
  @ApiProperty({ type: [PeriodView], description: 'current and future periods, in time order; higher levels run first' })
  periods: PeriodView[];
}

export class MembershipView extends MembershipSnapshot {
  @ApiProperty() user_id: string;
  @ApiProperty({ description: 'true while a period covers now, or while a failed renewal is in grace' }) active: boolean;
  @ApiProperty({
    description: 'true while a failed renewal is retried after the paid time ended: access is kept until auto_renew.grace_ends_at',
  })
  in_grace: boolean;
  @ApiProperty({ type: PlanView, nullable: true, description: 'the plan of the period running now' }) plan: PlanView | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'when the coverage running now began' }) started_at:
    string | null;
  @ApiProperty({
    type: AutoRenewView,
    nullable: true,
    description: 'the auto-renewal contract (the open one, else the last signed); null when the member never signed one',
  })
  auto_renew: AutoRenewView | null;
}

export class QuoteView {
  @ApiProperty({ type: PlanView }) plan: PlanView;
  @ApiProperty({ enum: ['purchase', 'renewal', 'upgrade'] }) kind: PurchaseKind;
  @ApiProperty({ description: 'pass as is_upgrade to create-order' }) is_upgrade: boolean;
  @ApiProperty({ example: 1990, description: 'fen (1/100 CNY): what create-order would charge now' }) amount: number;
  @ApiProperty({
    required: false,
    example: 23,
    description:
      'upgrade only: the days of the current level it converts to the higher one (whole days, rounded up). One upgrade is offered per higher level, the one that costs least.',
  })
  upgrade_days?: number;
}

export class QuoteList {
  @ApiProperty({ type: [QuoteView] }) data: QuoteView[];
}

export const toPlanView = (
  p: Pick<MembershipPlan, 'id' | 'code' | 'name' | 'level' | 'durationDays' | 'priceFen'> & { nameZh?: string | null },
): PlanView => ({
  id: p.id,
  code: p.code,
  name: p.name,
  name_zh: p.nameZh ?? null,
  level: p.level,
  duration_days: p.durationDays,
  price: p.priceFen,
});
