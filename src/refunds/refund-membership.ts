import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { MembershipService } from '../membership/membership.service';
import type { MembershipSnapshot } from '../membership/membership.views';

/**
 * What a refund does to the membership, on the refund's transaction: a full refund takes the
 * order's days away (the ledger becomes what it would be had the order never been paid); a partial
 * one keeps the access and only reports the membership.
 */
@Injectable()
export class RefundMembership {
  constructor(private readonly membership: MembershipService) {}

  async revokeOrder(m: EntityManager, orderId: string, userId: string, now: Date): Promise<MembershipSnapshot> {
    return (await this.membership.revokeOrder(m, orderId, now)) ?? this.membership.snapshot(m, userId, now);
  }

  snapshot(m: EntityManager, userId: string, now: Date): Promise<MembershipSnapshot> {
    return this.membership.snapshot(m, userId, now);
  }
}
