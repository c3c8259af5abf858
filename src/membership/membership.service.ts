import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { NotFoundError } from '../common/errors/domain-error';
import { MembershipPlan } from './membership-plan.entity';
import { nextMembership, NextMembership } from './membership-grant.rules';
import { quote, Quote } from './membership-pricing';
import { UserMembership } from './user-membership.entity';

@Injectable()
export class MembershipService {
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
    // Not findOne({ relations }): with a join it adds LIMIT 1 and so a second "SELECT DISTINCT ids"
    // round trip first (bench --trace-sql). user_id is unique, so one plain joined read suffices.
    return this.memberships.createQueryBuilder('m').leftJoinAndSelect('m.plan', 'plan')
      .where('m.userId = :userId', { userId }).getOne();
  }

  /** The plan and the price this user pays for it now (throws 404 / 409 as the rules say). */
  async quoteFor(userId: string, planId: number, isUpgrade: boolean, now: Date): Promise<{ plan: MembershipPlan; quote: Quote }> {
    const [plan, current] = await Promise.all([this.activePlan(planId), this.findMembership(userId)]);
    return { plan, quote: quote(plan, current && { level: current.level, expiresAt: current.expiresAt, plan: current.plan! }, isUpgrade, now) };
  }

  /**
   * What a paid order does to this membership (`current.level` 0 = none yet), by the rules in
   * membership-grant.rules.ts. The settling transaction (PaymentsService.settle) writes it, once
   * per order (membership_grants.order_id is unique), and only if the membership is still `current`.
   */
  decideGrant(current: { level: number; expiresAt: Date }, plan: { level: number; durationDays: number }, isUpgrade: boolean, now: Date): NextMembership {
    return nextMembership(current, plan, isUpgrade, now);
  }
}
