import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { NotFoundError } from '../common/errors/domain-error';
import { MembershipPlan } from './membership-plan.entity';
import { quote, Quote } from './membership-pricing';
import { UserMembership } from './user-membership.entity';

const DAY_MS = 86_400_000;

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
    const plan = await manager.findOneByOrFail(MembershipPlan, { id: req.productId });
    // Create the row if missing, then lock it: concurrent grants for one user serialise here.
    await manager.query(
      `INSERT INTO user_memberships (user_id, plan_id, level, started_at, expires_at)
       VALUES ($1, $2, 0, $3, $3) ON CONFLICT (user_id) DO NOTHING`,
      [req.userId, plan.id, now],
    );
    const [current] = await manager.query(
      `SELECT id, level, expires_at FROM user_memberships WHERE user_id = $1 FOR UPDATE`, [req.userId],
    ) as { id: string; level: number; expires_at: Date }[];
    const active = current.level > 0 && current.expires_at.getTime() > now.getTime();
    const previousLevel = current.level > 0 ? current.level : null;
    const previousExpiresAt = current.level > 0 ? current.expires_at : null;

    let level: number;
    let expiresAt: Date;
    let startedAt: Date | undefined;
    if (req.isUpgrade) {
      level = Math.max(current.level, plan.level);
      expiresAt = active ? current.expires_at : now;
      if (!active) this.logger.warn(`order ${req.orderNo}: upgrade paid after the membership had expired; level raised, no time added`);
    } else {
      level = active ? Math.max(current.level, plan.level) : plan.level;
      const from = active ? current.expires_at : now;
      expiresAt = new Date(from.getTime() + plan.durationDays * DAY_MS);
      if (!active) startedAt = now;
      if (active && current.level > plan.level) {
        this.logger.warn(`order ${req.orderNo}: level-${plan.level} plan paid while a level-${current.level} membership was active; time added at the higher level`);
      }
    }

    const inserted = await manager.query(
      `INSERT INTO membership_grants (order_id, user_id, plan_id, previous_level, previous_expires_at, new_level, new_expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id) DO NOTHING RETURNING id`,
      [req.orderId, req.userId, plan.id, previousLevel, previousExpiresAt, level, expiresAt],
    ) as unknown[];
    if (!inserted.length) {
      return { granted: false, level: current.level, expiresAt: current.expires_at };
    }
    await manager.query(
      `UPDATE user_memberships SET plan_id = $2, level = $3, expires_at = $4,
         started_at = COALESCE($5, started_at), updated_at = now() WHERE id = $1`,
      [current.id, plan.id, level, expiresAt, startedAt ?? null],
    );
    return { granted: true, level, expiresAt };
  }
}
