import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager } from 'typeorm';
import { Repository, In } from 'typeorm';
import { preparedQueryIn } from '../database/prepared-query';
import { runParts, StatementPart } from '../database/statement-parts';
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
  /** The fen of the order's price that support refunds took back with withdrawn_ms (not an upgrade's shortfall). */
  withdrawn_fen: number;
  /** An upgrade's shortfall: fen owed back so far for quoted time it did not convert. */
  shortfall_fen: number;
  granted_at: Date;
  upgrade_from_level: number | null;
  upgrade_quoted_ms: string | null;
  upgrade_quoted_at: Date | null;
  order_created_at: Date | null;
  order_no: string | null;
  /** What the order cost (null for a carried-over grant without one). */
  order_amount: number | null;
  plan_code: string;
  plan_price: number;
  plan_days: number;
}

const GRANT_COLUMNS = `id, order_id, plan_id, kind, level, duration_ms, withdrawn_ms, withdrawn_fen, shortfall_fen, granted_at, upgrade_from_level, upgrade_quoted_ms, upgrade_quoted_at`;
/** The standing grants of `g` (a set of membership_grants rows) with their order and plan, as GrantRow (and `more` columns of g). */
const standingWithOrderAndPlan = (g: string, more = '') =>
  `SELECT g.id, g.order_id, g.plan_id, g.kind, g.level, g.duration_ms, g.withdrawn_ms, g.withdrawn_fen, g.shortfall_fen, g.granted_at,
          g.upgrade_from_level, g.upgrade_quoted_ms, g.upgrade_quoted_at,
          o.created_at AS order_created_at, o.order_no, o.amount AS order_amount,
          pl.code AS plan_code, pl.price AS plan_price, pl.duration_days AS plan_days${more}
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

/**
 * A grant read to resume the member's ledger (MembershipService.grantWithWrite): a grant holding
 * days after the member's latest grant, with the one period in which it holds them, or the grant
 * just inserted (held_* null, `added` true). `since` is the member's latest grant's time before the
 * insert (null when they had none), the same on every row.
 */
export interface HeldGrantRow extends GrantRow {
  added: boolean;
  held_level: number | null;
  held_starts_at: Date | null;
  held_ends_at: Date | null;
  since: Date | null;
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

/** A period of the rebuilt ledger, with the grant, order and plan whose days it holds. */
export type LedgerRewritePeriod = LedgerPeriod & { grantId: string; orderId: string | null; planId: number };

/**
 * The writes that make the member's stored ledger the rebuilt one, as a part of a statement
 * (database/statement-parts.ts). Only what differs is written: a stored period that is not in
 * `periods` (same grant, order, plan, level and span) is deleted, a period of `periods` not stored
 * yet is inserted, and an upgrade's converted time is updated only when it changed. Most of a long
 * membership's history lies before the grant or refund that changed it and stays as it is, so a
 * settlement writes one or two rows and their index entries, not the whole history again. The
 * result is the same as deleting every period and inserting `periods`: the rules stay in
 * membership-ledger.ts, this only compares their output with what is stored. With `since`,
 * `periods` are only those that end after it (a ledger resumed from the latest grant,
 * resumeLedger) and only the stored periods that end after it are compared: the rest stand.
 */
export function ledgerRewrite(
  userId: string,
  periods: LedgerRewritePeriod[],
  upgrades: Map<string, UpgradeOutcome>,
  since: Date | null = null,
): StatementPart {
  const upgradeIds = [...upgrades.keys()];
  const same = (p: string) =>
    `w.grant_id = ${p}.grant_id AND w.level = ${p}.level AND w.starts_at = ${p}.starts_at AND w.ends_at = ${p}.ends_at
       AND w.plan_id = ${p}.plan_id AND w.order_id IS NOT DISTINCT FROM ${p}.order_id`;
  return {
    key: 'ledger-rewrite',
    ctes: `ledger_wanted AS (
         SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::timestamptz[], $7::timestamptz[])
                    AS w(grant_id, order_id, plan_id, level, starts_at, ends_at)),
       ledger_gone AS (
         DELETE FROM membership_periods p
          WHERE p.user_id = $1 AND p.ends_at > $10 AND NOT EXISTS (SELECT 1 FROM ledger_wanted w WHERE ${same('p')})),
       ledger_added AS (
         INSERT INTO membership_periods (user_id, grant_id, order_id, plan_id, level, starts_at, ends_at)
         SELECT $1, w.* FROM ledger_wanted w
          WHERE NOT EXISTS (SELECT 1 FROM membership_periods p WHERE p.user_id = $1 AND ${same('p')})),
       ledger_converted AS (
         UPDATE membership_grants g SET converted_ms = u.ms FROM unnest($8::uuid[], $9::bigint[]) AS u(id, ms)
          WHERE g.id = u.id AND g.converted_ms IS DISTINCT FROM u.ms)`,
    values: [
      userId,
      periods.map((p) => p.grantId),
      periods.map((p) => p.orderId),
      periods.map((p) => p.planId),
      periods.map((p) => p.level),
      periods.map((p) => p.startsAt),
      periods.map((p) => p.endsAt),
      upgradeIds,
      upgradeIds.map((id) => upgrades.get(id)!.convertedMs),
      since ?? '-infinity',
    ],
  };
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
   * Inserts the order's grant (nothing when it has one already) and reads what resuming the
   * member's ledger from their latest grant needs (HeldGrantRow), in one round trip: the grants
   * whose stored periods end after that grant, each with that period, and the new grant. The
   * stored periods are the ledger of the standing grants (every change rewrites them in its own
   * transaction, under the member's lock, which the caller holds), so what they hold after the
   * latest grant is the days held then. The periods' (user_id, ends_at) and the grants' (user_id,
   * granted_at) indexes make this a few rows whatever the member's history.
   */
  insertGrantReadHeld(m: EntityManager, g: NewGrant): Promise<HeldGrantRow[]> {
    return preparedQueryIn<HeldGrantRow>(
      m,
      'grant-insert-held',
      `WITH added AS (
         INSERT INTO membership_grants (order_id, user_id, plan_id, kind, level, duration_ms, granted_at,
                                        upgrade_from_level, upgrade_quoted_ms, upgrade_quoted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (order_id) DO NOTHING RETURNING ${GRANT_COLUMNS}),
       latest AS (
         SELECT granted_at AS at FROM membership_grants WHERE user_id = $2 AND revoked_at IS NULL ORDER BY granted_at DESC LIMIT 1),
       held AS (
         SELECT ${GRANT_COLUMNS.replace(/(\w+)/g, 'g.$1')}, false AS added, p.level AS held_level, p.starts_at AS held_starts_at, p.ends_at AS held_ends_at
           FROM membership_periods p JOIN membership_grants g ON g.id = p.grant_id
          WHERE p.user_id = $2 AND p.ends_at > (SELECT at FROM latest)
         UNION ALL
         SELECT ${GRANT_COLUMNS}, true, NULL, NULL, NULL FROM added)
       ${standingWithOrderAndPlan('held', ', g.added, g.held_level, g.held_starts_at, g.held_ends_at, (SELECT at FROM latest) AS since')}`,
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
   * upgrade's quoted time), with the fen of a refund that took them (`withdrawnFen`) or of an
   * upgrade's shortfall newly owed for them (`shortfallFen`); the member and what is left, or null
   * when the order has no standing grant.
   */
  async addWithdrawn(
    m: EntityManager,
    orderId: string,
    ms: bigint,
    fen: { withdrawnFen?: number; shortfallFen?: number } = {},
  ): Promise<{ user_id: string; left_ms: string } | null> {
    const [rows] = (await m.query(
      `UPDATE membership_grants
          SET withdrawn_ms = LEAST(CASE WHEN kind = 'upgrade' THEN upgrade_quoted_ms ELSE duration_ms END, withdrawn_ms + $2::bigint),
              withdrawn_fen = withdrawn_fen + $3, shortfall_fen = shortfall_fen + $4
        WHERE order_id = $1 AND revoked_at IS NULL
        RETURNING user_id, (CASE WHEN kind = 'upgrade' THEN upgrade_quoted_ms ELSE duration_ms END) - withdrawn_ms AS left_ms`,
      [orderId, ms.toString(), fen.withdrawnFen ?? 0, fen.shortfallFen ?? 0],
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

  /** Sends a ledger write (ledgerRewrite) on a statement of its own, on the caller's transaction. */
  async runLedgerWrite(m: EntityManager, write: StatementPart): Promise<void> {
    await runParts(m, [write], { key: 'ledger-written', text: 'SELECT 1', values: [] });
  }

  /**
   * The member's periods ending after `from` (all when null), in time order, with plan and order.
   * The order's number is looked up only for periods ending after `namedFrom` (default: all of
   * them): a view that shows only the periods still to run (GET /membership/me) does not join a
   * long membership's years of orders. Prepared: it serves create-order's quote and the member's
   * own reads.
   */
  periods(m: EntityManager, userId: string, from: Date | null, namedFrom: Date | null = null): Promise<PeriodRow[]> {
    return preparedQueryIn<PeriodRow>(
      m,
      'member-periods',
      `SELECT p.level, p.starts_at, p.ends_at, p.order_id,
              CASE WHEN $3::timestamptz IS NULL OR p.ends_at > $3 THEN (SELECT o.order_no FROM orders o WHERE o.id = p.order_id) END AS order_no,
              pl.id AS plan_id, pl.code AS plan_code, pl.name AS plan_name, pl.name_zh AS plan_name_zh, pl.price AS plan_price, pl.duration_days AS plan_days
         FROM membership_periods p
         JOIN membership_plans pl ON pl.id = p.plan_id
        WHERE p.user_id = $1 AND ($2::timestamptz IS NULL OR p.ends_at > $2)
        ORDER BY p.starts_at`,
      [userId, from, namedFrom],
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
