import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager } from 'typeorm';
import { Repository, In } from 'typeorm';
import { preparedQueryIn } from '../database/prepared-query';
import type { LedgerPeriod, UpgradeOutcome } from './membership-ledger';
import type { GrantKind } from './membership-grant.entity';
import { MembershipPlan } from './membership-plan.entity';

/** A standing grant with what the ledger needs to order it, and what its periods show (plan code, order number). */
export interface GrantRow {
  id: string;
  order_id: string | null;
  plan_id: number;
  kind: GrantKind;
  level: number;
  duration_ms: string;
  /** Taken back by partial refunds (of the days, or of an upgrade's converted time). */
  withdrawn_ms: string;
  granted_at: Date;
  upgrade_from_level: number | null;
  upgrade_quoted_ms: string | null;
  upgrade_quoted_at: Date | null;
  order_created_at: Date | null;
  order_no: string | null;
  plan_code: string;
}

const GRANT_COLUMNS = `id, order_id, plan_id, kind, level, duration_ms, withdrawn_ms, granted_at, upgrade_from_level, upgrade_quoted_ms, upgrade_quoted_at`;
/** The standing grants of `g` (a set of membership_grants rows) with their order and plan, as GrantRow. */
const standingWithOrderAndPlan = (g: string) =>
  `SELECT g.id, g.order_id, g.plan_id, g.kind, g.level, g.duration_ms, g.withdrawn_ms, g.granted_at,
          g.upgrade_from_level, g.upgrade_quoted_ms, g.upgrade_quoted_at,
          o.created_at AS order_created_at, o.order_no, pl.code AS plan_code
     FROM ${g} g
     JOIN membership_plans pl ON pl.id = g.plan_id
     LEFT JOIN orders o ON o.id = g.order_id`;

/** A period of the ledger with its plan and order, as reads show it. */
export interface PeriodRow {
  level: number;
  starts_at: Date;
  ends_at: Date;
  order_id: string | null;
  order_no: string | null;
  plan_id: number;
  plan_code: string;
  plan_name: string;
  plan_name_zh: string | null;
  plan_price: number;
  plan_days: number;
}

export interface NewGrant {
  orderId: string;
  userId: string;
  planId: number;
  kind: 'add' | 'upgrade';
  level: number;
  durationMs: number;
  grantedAt: Date;
  upgrade?: { fromLevel: number; quotedMs: number; quotedAt: Date };
}

/** The membership tables' queries: plans, grants and periods. Only the membership module writes these. */
@Injectable()
export class MembershipRepository {
  constructor(@InjectRepository(MembershipPlan) private readonly plans: Repository<MembershipPlan>) {}

  listActivePlans(): Promise<MembershipPlan[]> {
    return this.plans.find({ where: { active: true }, order: { level: 'ASC', durationDays: 'ASC' } });
  }

  /** Plans by id, withdrawn ones too (a contract may renew a plan no longer sold). */
  plansByIds(ids: readonly number[]): Promise<MembershipPlan[]> {
    return ids.length ? this.plans.find({ where: { id: In([...ids]) } }) : Promise.resolve([]);
  }

  findActivePlan(planId: number): Promise<MembershipPlan | null> {
    return this.plans.findOne({ where: { id: planId, active: true } });
  }

  /** A plan whether or not it is still sold (a contract renews the plan it was signed for). */
  findPlan(planId: number): Promise<MembershipPlan | null> {
    return this.plans.findOne({ where: { id: planId } });
  }

  /**
   * Serialises everything that changes one member's ledger or appends their events. The key is the
   * one appendOrderEvent takes for the outbox, so a ledger change and its event commit in order.
   */
  async lockMember(m: EntityManager, userId: string): Promise<void> {
    await preparedQueryIn(m, 'member-lock', 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [userId]);
  }

  /**
   * Inserts the order's grant (nothing when the order has one already: a grant happens once) and
   * returns the member's standing grants with it, in one round trip. The caller holds the member's
   * lock, and this is a statement of its own after that lock, so its snapshot sees every grant
   * committed before the lock was granted. The new row is not visible to the statement's own read
   * of the table (one snapshot per statement), hence the union with what the insert returned.
   */
  insertGrantReadStanding(m: EntityManager, g: NewGrant): Promise<GrantRow[]> {
    return preparedQueryIn<GrantRow>(
      m,
      'grant-insert-standing',
      `WITH added AS (
         INSERT INTO membership_grants (order_id, user_id, plan_id, kind, level, duration_ms, granted_at,
                                        upgrade_from_level, upgrade_quoted_ms, upgrade_quoted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (order_id) DO NOTHING RETURNING ${GRANT_COLUMNS})
       ${standingWithOrderAndPlan(`(SELECT ${GRANT_COLUMNS} FROM membership_grants WHERE user_id = $2 AND revoked_at IS NULL
                                    UNION ALL SELECT ${GRANT_COLUMNS} FROM added)`)}`,
      [
        g.orderId,
        g.userId,
        g.planId,
        g.kind,
        g.level,
        g.durationMs,
        g.grantedAt,
        g.upgrade?.fromLevel ?? null,
        g.upgrade?.quotedMs ?? null,
        g.upgrade?.quotedAt ?? null,
      ],
    );
  }

  /** Marks the order's grant revoked; the member it belonged to, or null when it had none standing. */
  async revokeGrant(m: EntityManager, orderId: string): Promise<string | null> {
    const [rows] = (await m.query(
      'UPDATE membership_grants SET revoked_at = now() WHERE order_id = $1 AND revoked_at IS NULL RETURNING user_id',
      [orderId],
    )) as [{ user_id: string }[], number];
    return rows[0]?.user_id ?? null;
  }

  /**
   * Adds `ms` to what the order's standing grant has taken back (at most all of it: its days, or an
   * upgrade's quoted time); the member and what is left, or null when the order has no standing grant.
   */
  async addWithdrawn(m: EntityManager, orderId: string, ms: bigint): Promise<{ user_id: string; left_ms: string } | null> {
    const [rows] = (await m.query(
      `UPDATE membership_grants
          SET withdrawn_ms = LEAST(CASE WHEN kind = 'upgrade' THEN upgrade_quoted_ms ELSE duration_ms END, withdrawn_ms + $2::bigint)
        WHERE order_id = $1 AND revoked_at IS NULL
        RETURNING user_id, (CASE WHEN kind = 'upgrade' THEN upgrade_quoted_ms ELSE duration_ms END) - withdrawn_ms AS left_ms`,
      [orderId, ms.toString()],
    )) as [{ user_id: string; left_ms: string }[], number];
    return rows[0] ?? null;
  }

  /** The whole time an order's standing grant was bought for: its days, or an upgrade's quoted time. */
  async grantedMs(m: EntityManager, orderId: string): Promise<bigint | null> {
    const [row] = (await m.query(
      `SELECT CASE WHEN kind = 'upgrade' THEN upgrade_quoted_ms ELSE duration_ms END AS ms
         FROM membership_grants WHERE order_id = $1 AND revoked_at IS NULL`,
      [orderId],
    )) as { ms: string }[];
    return row ? BigInt(row.ms) : null;
  }

  /** An upgrade's quoted time that is neither converted nor taken back yet: days that were not there. */
  async unconvertedMs(m: EntityManager, orderId: string): Promise<{ user_id: string; ms: number; quotedMs: number } | null> {
    const [row] = (await m.query(
      `SELECT user_id, upgrade_quoted_ms AS quoted_ms, upgrade_quoted_ms - withdrawn_ms - COALESCE(converted_ms, 0) AS ms
         FROM membership_grants WHERE order_id = $1 AND kind = 'upgrade' AND revoked_at IS NULL`,
      [orderId],
    )) as { user_id: string; ms: string; quoted_ms: string }[];
    return row ? { user_id: row.user_id, ms: Number(row.ms), quotedMs: Number(row.quoted_ms) } : null;
  }

  /** Orders whose upgrade has time that was neither converted nor taken back (oldest grants first). */
  async upgradesWithUnconverted(limit: number): Promise<string[]> {
    const rows = (await this.plans.manager.query(
      `SELECT order_id FROM membership_grants
        WHERE kind = 'upgrade' AND revoked_at IS NULL AND upgrade_quoted_ms - withdrawn_ms - COALESCE(converted_ms, 0) > 0
        ORDER BY granted_at LIMIT $1`,
      [limit],
    )) as { order_id: string }[];
    return rows.map((r) => r.order_id);
  }

  async grantOwner(m: EntityManager, orderId: string): Promise<string | null> {
    const [row] = (await m.query('SELECT user_id FROM membership_grants WHERE order_id = $1', [orderId])) as { user_id: string }[];
    return row?.user_id ?? null;
  }

  standingGrants(m: EntityManager, userId: string): Promise<GrantRow[]> {
    return m.query(`${standingWithOrderAndPlan('membership_grants')} WHERE g.user_id = $1 AND g.revoked_at IS NULL`, [userId]);
  }

  /** Replaces the member's periods with the rebuilt ones, and records what each upgrade converted. */
  async replaceLedger(
    m: EntityManager,
    userId: string,
    periods: (LedgerPeriod & { grantId: string; orderId: string | null; planId: number })[],
    upgrades: Map<string, UpgradeOutcome>,
  ): Promise<void> {
    const upgradeIds = [...upgrades.keys()];
    await preparedQueryIn(
      m,
      'ledger-replace',
      `WITH gone AS (DELETE FROM membership_periods WHERE user_id = $1),
            converted AS (UPDATE membership_grants g SET converted_ms = u.ms
                            FROM unnest($8::uuid[], $9::bigint[]) AS u(id, ms) WHERE g.id = u.id)
       INSERT INTO membership_periods (user_id, grant_id, order_id, plan_id, level, starts_at, ends_at)
       SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[])`,
      [
        userId,
        periods.map((p) => p.grantId),
        periods.map((p) => p.orderId),
        periods.map((p) => p.planId),
        periods.map((p) => p.level),
        periods.map((p) => p.startsAt),
        periods.map((p) => p.endsAt),
        upgradeIds,
        upgradeIds.map((id) => upgrades.get(id)!.convertedMs),
      ],
    );
  }

  /** The member's periods ending after `from` (all when null), in time order, with plan and order. */
  periods(m: EntityManager, userId: string, from: Date | null): Promise<PeriodRow[]> {
    return m.query(
      `SELECT p.level, p.starts_at, p.ends_at, p.order_id, o.order_no,
              pl.id AS plan_id, pl.code AS plan_code, pl.name AS plan_name, pl.name_zh AS plan_name_zh, pl.price AS plan_price, pl.duration_days AS plan_days
         FROM membership_periods p
         JOIN membership_plans pl ON pl.id = p.plan_id
         LEFT JOIN orders o ON o.id = p.order_id
        WHERE p.user_id = $1 AND ($2::timestamptz IS NULL OR p.ends_at > $2)
        ORDER BY p.starts_at`,
      [userId, from],
    );
  }

  /** Every period of these members, in time order per member (entitlements, read by other services). */
  periodsOf(m: EntityManager, userIds: readonly string[]): Promise<(PeriodRow & { user_id: string })[]> {
    return m.query(
      `SELECT p.user_id, p.level, p.starts_at, p.ends_at, p.order_id, o.order_no,
              pl.id AS plan_id, pl.code AS plan_code, pl.name AS plan_name, pl.price AS plan_price, pl.duration_days AS plan_days
         FROM membership_periods p
         JOIN membership_plans pl ON pl.id = p.plan_id
         LEFT JOIN orders o ON o.id = p.order_id
        WHERE p.user_id = ANY($1::varchar[])
        ORDER BY p.user_id, p.starts_at`,
      [userIds],
    );
  }
}
