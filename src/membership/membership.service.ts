import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors/domain-error';
import { MembershipPlan } from './membership-plan.entity';
import { nextMembership } from './membership-grant.rules';
import { quote, Quote } from './membership-pricing';
import { UserMembership } from './user-membership.entity';

/** What a paid order asks of the membership module. */
export interface GrantRequest {
  orderId: string;
  orderNo: string;
  userId: string;
  productId: number;
  isUpgrade: boolean;
}

export interface GrantResult {
  granted: boolean;
  level: number;
  expiresAt: Date;
}

@Injectable()
export class MembershipService {
  private readonly logger = new Logger(MembershipService.name);

  constructor(
    @InjectRepository(MembershipPlan) private readonly plans: Repository<MembershipPlan>,
    @InjectRepository(UserMembership) private readonly memberships: Repository<UserMembership>,
  ) {}

  listActivePlans(): Promise<MembershipPlan[]> {
    return this.plans.find({ where: { active: true }, order: { level: 'ASC', durationDays: 'ASC' } });
  }

  async activePlan(planId: number): Promise<MembershipPlan> {
    const plan = await this.plans.findOne({ where: { id: planId, active: true } });
    if (!plan) throw new NotFoundError('PRODUCT_NOT_FOUND', `No active membership plan has the id ${planId}`);
    return plan;
  }

  findMembership(userId: string): Promise<UserMembership | null> {
    return this.memberships.findOne({ where: { userId }, relations: { plan: true } });
  }

  /** The plan and the price this user pays for it now (throws 404 / 409 as the rules say). */
  async quoteFor(userId: string, planId: number, isUpgrade: boolean, now: Date): Promise<{ plan: MembershipPlan; quote: Quote }> {
    const [plan, current] = await Promise.all([this.activePlan(planId), this.findMembership(userId)]);
    return { plan, quote: quote(plan, current && { level: current.level, expiresAt: current.expiresAt, plan: current.plan! }, isUpgrade, now) };
  }

  /**
   * Grants what a paid order bought, on the settling transaction's manager. The unique
   * membership_grants.order_id makes it happen once: a second call for the same order, from
   * any race, inserts nothing and changes nothing.
   */
  async grant(manager: EntityManager, req: GrantRequest, now: Date): Promise<GrantResult> {
    // One statement creates the row if missing and locks it (an upsert that touches the row takes
    // its lock), with the plan: concurrent grants for one user serialise here.
    const [current] = await manager.query(
      `WITH plan AS (SELECT id, level, duration_days FROM membership_plans WHERE id = $2)
       INSERT INTO user_memberships (user_id, plan_id, level, started_at, expires_at)
       SELECT $1, plan.id, 0, $3, $3 FROM plan
       ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
       RETURNING id, level, expires_at, (SELECT level FROM plan) AS plan_level, (SELECT duration_days FROM plan) AS plan_days`,
      [req.userId, req.productId, now],
    ) as { id: string; level: number; expires_at: Date; plan_level: number; plan_days: number }[];
    const plan = { level: current.plan_level, durationDays: current.plan_days };
    const next = nextMembership({ level: current.level, expiresAt: current.expires_at }, plan, req.isUpgrade, now);
    if (next.note) this.logger.warn(`order ${req.orderNo}: ${next.note}`);

    // The grant row and the membership change in one statement: the membership moves only if
    // this order's grant row is new, so a repeat for the same order changes nothing.
    const changed = await manager.query(
      `WITH grant_row AS (
         INSERT INTO membership_grants (order_id, user_id, plan_id, previous_level, previous_expires_at, new_level, new_expires_at)
         VALUES ($2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id) DO NOTHING RETURNING id)
       UPDATE user_memberships SET plan_id = $4, level = $7, expires_at = $8, started_at = COALESCE($9, started_at), updated_at = now()
        WHERE id = $1 AND EXISTS (SELECT 1 FROM grant_row) RETURNING id`,
      [current.id, req.orderId, req.userId, req.productId, next.previousLevel, next.previousExpiresAt, next.level, next.expiresAt, next.startedAt],
    ) as [unknown[], number];
    if (!changed[0].length) return { granted: false, level: current.level, expiresAt: current.expires_at };
    return { granted: true, level: next.level, expiresAt: next.expiresAt };
  }
}
