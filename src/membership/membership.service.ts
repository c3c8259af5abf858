import { Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { NotFoundError } from '../common/errors/domain-error';
import { DomainError } from '../common/errors/domain-error';
import { MetricsService } from '../metrics/metrics.service';
import { buildLedger, coverageAround, DAY_MS, Ledger, LedgerGrant, resumeLedger, standingAt, UpgradeOutcome } from './membership-ledger';
import { AutoRenewals, type MemberContract } from './auto-renewals';
import { entitlementAt, EntitlementView } from './entitlement';
import { MembershipPlan } from './membership-plan.entity';
import { PlanPrice, quote, Quote, upgradeExcessMs, upgradeShortfallFen } from './membership-pricing';
import type { StatementPart } from '../database/statement-parts';
import { GrantRow, HeldGrantRow, ledgerRewrite, MembershipRepository, PeriodRow } from './membership.repository';
import { AutoRenewView, MembershipSnapshot, MembershipView, PeriodView, PlanListing, QuoteView, toPlanView } from './membership.views';

/** A paid order, as much of it as its grant needs. */
export interface PaidOrder {
  orderId: string;
  orderNo: string;
  userId: string;
  planId: number;
  amountFen: number;
  /** The plan's level and days, read with the order. */
  planLevel: number;
  planDays: number;
  isUpgrade: boolean;
  createdAt: Date;
  upgradeFromLevel: number | null;
  upgradeMs: number | null;
  /** When the upgrade was quoted: it converts the days granted strictly before. */
  upgradeQuotedAt: Date | null;
  /** The caller took the member's lock on this transaction already (settlement takes it with the attempt's). */
  memberLocked?: boolean;
}

export interface Granted {
  membership: MembershipSnapshot;
  /** An upgrade's price, in fen, whose days were no longer there to convert (0 when none), already taken back from its grant. */
  shortfallFen: number;
}

/** The ledger after a refund took time back, and the upgrade orders that now have time they could not convert. */
export interface Withdrawn {
  membership: MembershipSnapshot;
  shortUpgrades: string[];
}

/**
 * Owns the membership: plans, prices, and each member's ledger of periods. Settlement and refunds
 * ask it to grant or revoke inside their own transaction; it rebuilds the member's periods from the
 * grants that stand (membership-ledger.ts), so the result never depends on the order they came in.
 */
@Injectable()
export class MembershipService {
  private readonly logger = new Logger('Membership');

  constructor(
    private readonly dataSource: DataSource,
    private readonly repo: MembershipRepository,
    private readonly metrics: MetricsService,
    /** Absent where no module owns contracts: no plan renews, nobody has a contract. */
    @Optional() private readonly autoRenewals?: AutoRenewals,
  ) {}

  listActivePlans(): Promise<MembershipPlan[]> {
    return this.repo.listActivePlans();
  }

  /** The active plans, each with whether it can be bought with auto-renewal and at what renewal price. */
  async planListing(): Promise<PlanListing[]> {
    return (await this.repo.listActivePlans()).map((plan) => {
      const { methods, upgradeMethods } = this.autoRenewals?.providersFor(plan.code) ?? { methods: [], upgradeMethods: [] };
      return {
        ...toPlanView(plan),
        auto_renew: methods.length > 0,
        auto_renew_methods: methods,
        auto_renew_upgrade_methods: upgradeMethods,
        renewal_amount: methods.length ? plan.priceFen : null,
      };
    });
  }

  async activePlan(planId: number): Promise<MembershipPlan> {
    const plan = await this.repo.findActivePlan(planId);
    if (!plan) throw new NotFoundError('PRODUCT_NOT_FOUND', `No active membership plan has the id ${planId}`);
    return plan;
  }

  /** A plan whether or not it is still sold: a contract renews the plan it was signed for, at the amount signed. */
  async plan(planId: number): Promise<MembershipPlan> {
    const plan = await this.repo.findPlan(planId);
    if (!plan) throw new NotFoundError('PRODUCT_NOT_FOUND', `No membership plan has the id ${planId}`);
    return plan;
  }

  /**
   * The end of the member's paid coverage at the plan's level or above (null: none from now): T, when a
   * renewal of that plan must start for no gap and no overlap.
   */
  async paidEnd(userId: string, level: number, now: Date): Promise<Date | null> {
    const periods = await this.repo.periods(this.dataSource.manager, userId, now);
    const ends = periods.filter((p) => p.level >= level).map((p) => new Date(p.ends_at).getTime());
    return ends.length ? new Date(Math.max(...ends)) : null;
  }

  /**
   * The price of `plan` for this member, quoted under the member's lock on the caller's transaction
   * (create-order's, held to its commit; throws 409 as the rules say). A settlement of this member
   * either committed before the lock was granted, and its days are priced, or waits for it and is
   * timed after the quote. `quotedAt` is strictly after every grant the quote saw (each was timed
   * before its settlement committed) and at or before every grant it did not see (timed once their
   * lock is held, after this transaction): an upgrade converts the days granted strictly before its
   * quote (membership-ledger.ts), so exactly the days it was priced on.
   */
  async quoteUnderLock(
    m: EntityManager,
    userId: string,
    plan: MembershipPlan,
    isUpgrade: boolean,
  ): Promise<{ quote: Quote; quotedAt: Date }> {
    await this.repo.lockMember(m, userId);
    const lockedAt = new Date();
    const q = quote(plan, standing(await this.repo.periods(m, userId, lockedAt), lockedAt), isUpgrade);
    // Only an upgrade's time decides which days it converts; a grant it saw may be timed in this
    // very millisecond, so its time is the first millisecond after (a wait of a millisecond at most).
    return { quote: q, quotedAt: q.upgrade ? await clockAfter(lockedAt.getTime()) : lockedAt };
  }

  /** Every choice the pricing rules allow this member now, with its price. */
  async quotes(userId: string, now: Date): Promise<QuoteView[]> {
    const [plans, periods] = await Promise.all([this.repo.listActivePlans(), this.repo.periods(this.dataSource.manager, userId, now)]);
    const current = standing(periods, now);
    const out: QuoteView[] = [];
    for (const plan of plans) {
      for (const isUpgrade of [false, true]) {
        try {
          const q = quote(plan, current, isUpgrade);
          out.push({
            plan: toPlanView(plan),
            kind: q.kind,
            is_upgrade: isUpgrade,
            amount: q.amountFen,
            ...(q.upgrade ? { upgrade_days: Math.ceil(q.upgrade.ms / DAY_MS) } : {}),
          });
        } catch (e) {
          if (!(e instanceof DomainError)) throw e;
        }
      }
    }
    return oneUpgradePerLevel(out);
  }

  async me(userId: string, now: Date): Promise<MembershipView> {
    // Every period (the coverage's start may lie years back); order numbers only for those still to run, the ones shown.
    const [periods, contracts] = await Promise.all([
      this.repo.periods(this.dataSource.manager, userId, null, now),
      this.autoRenewals?.ofMembers([userId]),
    ]);
    const contract = contracts?.get(userId);
    const t = now.getTime();
    const asLedger = periods.map(toLedgerPeriod);
    const running = standingAt(asLedger, now).current;
    const coverage = coverageAround(asLedger, now);
    const snapshot = toSnapshot(periods, now);
    const row = running ? periods[asLedger.indexOf(running)] : null;
    // In grace (a failed renewal retried): access is kept at the level that lapsed; grace is no period.
    const grace = contract?.status === 'past_due' && contract.graceEndsAt && t < new Date(contract.graceEndsAt).getTime();
    const lapsedLevel = !running && grace && periods.length ? periods[periods.length - 1].level : null;
    return {
      user_id: userId,
      active: periods.some((p) => p.starts_at.getTime() <= t && t < p.ends_at.getTime()) || lapsedLevel !== null,
      ...snapshot,
      ...(lapsedLevel !== null ? { level: lapsedLevel } : {}),
      in_grace: lapsedLevel !== null,
      plan: row
        ? toPlanView({
            id: row.plan_id,
            code: row.plan_code,
            name: row.plan_name,
            nameZh: row.plan_name_zh,
            level: row.level,
            durationDays: row.plan_days,
            priceFen: row.plan_price,
          })
        : null,
      started_at: coverage ? coverage.startedAt.toISOString() : null,
      auto_renew: contract ? await this.autoRenewView(contract, snapshot.expires_at) : null,
    };
  }

  /** The contract as /me shows it: the next renewal is at the end of the paid time, while it renews. */
  private async autoRenewView(c: MemberContract, expiresAt: string | null): Promise<AutoRenewView> {
    const [plan] = await this.repo.plansByIds([c.planId]);
    const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
    return {
      status: c.status,
      provider: c.provider,
      plan_code: plan?.code ?? null,
      amount: c.amountFen,
      next_renewal_at: c.status === 'active' || c.status === 'past_due' ? expiresAt : null,
      signed_at: iso(c.signedAt),
      cancelled_at: iso(c.cancelledAt),
      grace_ends_at: c.status === 'past_due' ? iso(c.graceEndsAt) : null,
    };
  }

  /** Each member's entitlement at `now`, in the order asked (members never seen come out inactive). */
  async entitlements(userIds: readonly string[], now: Date): Promise<EntitlementView[]> {
    const [rows, contracts] = await Promise.all([
      this.repo.periodsOf(this.dataSource.manager, userIds),
      this.autoRenewals?.ofMembers(userIds) ?? new Map<string, MemberContract>(),
    ]);
    const byUser = new Map<string, PeriodView[]>();
    for (const r of rows) {
      const list = byUser.get(r.user_id) ?? [];
      list.push({
        level: r.level,
        plan_code: r.plan_code,
        starts_at: r.starts_at.toISOString(),
        ends_at: r.ends_at.toISOString(),
        order_no: r.order_no,
      });
      byUser.set(r.user_id, list);
    }
    return userIds.map((id) => entitlementAt(id, byUser.get(id) ?? [], now, contracts.get(id)));
  }

  async snapshot(m: EntityManager, userId: string, now: Date): Promise<MembershipSnapshot> {
    return toSnapshot(await this.repo.periods(m, userId, now), now);
  }

  /**
   * Grants a paid order, inside the settling transaction: records its grant (once per order) and
   * rebuilds the member's ledger. An upgrade converts the days it was quoted on, as many as are left.
   * The days are granted as of the moment the member's lock is held, so grants are timed in the
   * order they are applied. The membership returned is the rebuilt ledger's, not read back.
   */
  async grant(m: EntityManager, order: PaidOrder): Promise<Granted> {
    const granted = await this.grantWithWrite(m, order);
    if (granted.ledgerWrite) await this.repo.runLedgerWrite(m, granted.ledgerWrite);
    return granted;
  }

  /**
   * grant, with the ledger's write handed back unsent (`ledgerWrite`) when nothing else needs it
   * first: the caller sends it in its own next statement, on the same transaction, before it reads
   * the member's periods or grants again (settlement sends it with the order's update and the
   * outbox row: one round trip for the three). An upgrade that came up short has its ledger written
   * here (the shortfall is taken from what was written), and `ledgerWrite` is null.
   */
  async grantWithWrite(m: EntityManager, order: PaidOrder): Promise<Granted & { ledgerWrite: StatementPart | null }> {
    if (!order.memberLocked) await this.repo.lockMember(m, order.userId);
    const now = new Date();
    const upgrade =
      order.isUpgrade && order.upgradeFromLevel !== null && order.upgradeMs !== null
        ? { fromLevel: order.upgradeFromLevel, quotedMs: order.upgradeMs, quotedAt: order.upgradeQuotedAt ?? order.createdAt }
        : undefined;
    const read = await this.repo.insertGrantReadHeld(m, {
      orderId: order.orderId,
      userId: order.userId,
      planId: order.planId,
      level: order.planLevel,
      grantedAt: now,
      kind: upgrade ? 'upgrade' : 'add',
      durationMs: upgrade ? 0 : order.planDays * DAY_MS,
      upgrade,
    });
    const resumed = resumedLedger(read);
    // Rebuilt from every grant when the ledger cannot be resumed from the latest (see resumedLedger).
    const standing = resumed ? read : await this.repo.standingGrants(m, order.userId);
    const rebuilt = this.rebuilt(order.userId, standing, resumed ?? undefined);
    // The rebuild says whether the upgrade missed any of its time: only then is the shortfall taken.
    const outcome = upgrade ? rebuilt.upgrades.get(order.orderId) : undefined;
    const grant = outcome && outcome.shortfallMs > 0 ? standing.find((r) => r.order_id === order.orderId) : undefined;
    if (!grant) return { membership: toSnapshot(rebuilt.periods, now), shortfallFen: 0, ledgerWrite: rebuilt.write };
    await this.repo.runLedgerWrite(m, rebuilt.write);
    const missing = await this.takeShortfall(m, standing, grant, order.orderNo, order.amountFen, outcome);
    return { membership: toSnapshot(rebuilt.periods, now), shortfallFen: missing, ledgerWrite: null };
  }

  /**
   * An upgrade's quoted time that its days were no longer there to convert (after a refund took days
   * it was converting): taken back and priced as takeShortfall does, the fen newly owed returned for
   * the caller to refund. The caller holds the member's lock (or this takes it).
   */
  async takeUnconverted(m: EntityManager, orderId: string, orderNo: string, amountFen: number): Promise<number> {
    const left = await this.repo.unconvertedMs(m, orderId);
    if (!left || left.ms <= 0) return 0;
    await this.repo.lockMember(m, left.user_id);
    const standing = await this.repo.standingGrants(m, left.user_id);
    const grant = standing.find((r) => r.order_id === orderId && r.kind === 'upgrade');
    if (!grant) return 0;
    // The ledger as written (the same grants rebuild the same ledger): whose days the upgrade converts.
    const ledger = buildLedger(standing.map(toLedgerGrant));
    return this.takeShortfall(m, standing, grant, orderNo, amountFen, ledger.upgrades.get(grant.id));
  }

  /**
   * Takes the upgrade's quoted time it did not convert back from its grant (so no later rebuild
   * counts it again) and reckons what it owes back: what it was paid for its time (its price less
   * what support's refunds took back with time) minus what the time it converts is worth to the
   * member, each span at the daily difference of the plan that bought it (upgradeShortfallFen),
   * less what it owed back before. Returns the fen newly owed (0 when none). Under the member's lock.
   */
  private async takeShortfall(
    m: EntityManager,
    standing: GrantRow[],
    grant: GrantRow,
    orderNo: string,
    amountFen: number,
    outcome: UpgradeOutcome | undefined,
  ): Promise<number> {
    if (!outcome || outcome.shortfallMs <= 0) return 0;
    const byId = new Map(standing.map((r) => [r.id, r]));
    const owed = upgradeShortfallFen(
      planPriceOf(grant),
      amountFen - grant.withdrawn_fen,
      outcome.convertedFrom.map((c) => ({ ms: c.ms, plan: paidPriceOf(byId.get(c.id)!) })),
    );
    const fen = Math.max(0, owed - grant.shortfall_fen);
    await this.repo.addWithdrawn(m, grant.order_id!, BigInt(outcome.shortfallMs), { shortfallFen: fen });
    if (fen > 0) {
      this.metrics.upgradeShortfall.inc(fen);
      this.logger.warn(
        `order ${orderNo}: upgrade short of ${Math.round(outcome.shortfallMs / 60_000)} of its quoted minutes; ${fen} fen to refund`,
      );
    }
    return fen;
  }

  /** Upgrade orders with quoted time neither converted nor taken back: the refund job reckons their shortfall. */
  upgradesWithUnconverted(limit: number): Promise<string[]> {
    return this.repo.upgradesWithUnconverted(limit);
  }

  /**
   * Takes back the part of an order's time that `fen` of its `ofFen` bought (rounded up to the
   * millisecond, so the time kept is never worth more than what is left paid), from the end of its
   * periods as the ledger lays them out; all of it revokes the grant. Inside the caller's
   * transaction, under the member's lock. Null when the order has no standing grant.
   */
  async withdraw(m: EntityManager, orderId: string, fen: number, ofFen: number, now: Date): Promise<Withdrawn | null> {
    const userId = await this.repo.grantOwner(m, orderId);
    if (!userId) return null;
    await this.repo.lockMember(m, userId);
    const total = await this.repo.grantedMs(m, orderId);
    if (total === null) return null;
    let ms = fen >= ofFen ? total : (total * BigInt(fen) + BigInt(ofFen) - 1n) / BigInt(ofFen);
    if (fen < ofFen) ms += await this.upgradeKeptBeyondPaid(m, userId, orderId, ms, fen, ofFen);
    const left = await this.repo.addWithdrawn(m, orderId, ms, { withdrawnFen: Math.min(fen, ofFen) });
    if (left && BigInt(left.left_ms) <= 0n) await this.repo.revokeGrant(m, orderId);
    const rebuilt = this.rebuilt(userId, await this.repo.standingGrants(m, userId));
    await this.repo.runLedgerWrite(m, rebuilt.write);
    const shortUpgrades = [...rebuilt.upgrades].filter(([, o]) => o.shortfallMs > 0).map(([id]) => id);
    return { membership: toSnapshot(rebuilt.periods, now), shortUpgrades };
  }

  /**
   * For an upgrade's grant about to give back `ms` of its time with `fen` of its price: the time it
   * would still convert beyond what is left paid for it, to give back too (0 for any other grant).
   * Its time goes back from the end of what it converts, so what it keeps is the first in line; when
   * those are the days of the larger daily difference, time in proportion to the fen leaves it worth
   * more than what is left paid (upgradeExcessMs). Under the member's lock.
   */
  private async upgradeKeptBeyondPaid(
    m: EntityManager,
    userId: string,
    orderId: string,
    ms: bigint,
    fen: number,
    ofFen: number,
  ): Promise<bigint> {
    const standing = await this.repo.standingGrants(m, userId);
    const grant = standing.find((r) => r.order_id === orderId);
    if (!grant || grant.kind !== 'upgrade') return 0n;
    // The ledger as it will be once `ms` is given back: what the upgrade then converts, and whose days.
    const after = { ...grant, withdrawn_ms: String(BigInt(grant.withdrawn_ms) + ms) };
    const outcome = buildLedger(standing.map((r) => toLedgerGrant(r === grant ? after : r))).upgrades.get(grant.id);
    if (!outcome) return 0n;
    const byId = new Map(standing.map((r) => [r.id, r]));
    const paidLeft = ofFen - grant.withdrawn_fen - fen - grant.shortfall_fen;
    const converted = outcome.convertedFrom.map((c) => ({ ms: c.ms, plan: paidPriceOf(byId.get(c.id)!) }));
    return BigInt(upgradeExcessMs(planPriceOf(grant), Math.max(0, paidLeft), converted));
  }

  /**
   * Rebuilds the member's periods from their standing grants (read after the member's lock, which
   * the caller holds), or takes the ledger resumed from the latest grant (`resumed`: `rows` are then
   * the grants it was resumed with, and only the periods after `since` are compared). Returns the
   * periods, in time order, each upgrade's outcome keyed by order id, and the write that stores them
   * (not sent: the caller sends it on its transaction).
   */
  private rebuilt(
    userId: string,
    rows: GrantRow[],
    resumed?: { ledger: Ledger; since: Date | null },
  ): { periods: SnapshotPeriod[]; upgrades: Map<string, UpgradeOutcome>; write: StatementPart } {
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ledger = resumed?.ledger ?? buildLedger(rows.map(toLedgerGrant));
    const write = ledgerRewrite(
      userId,
      ledger.periods.map((p) => {
        const g = byId.get(p.id)!;
        return { ...p, grantId: g.id, orderId: g.order_id, planId: g.plan_id };
      }),
      ledger.upgrades,
      resumed?.since ?? null,
    );
    const upgrades = new Map<string, UpgradeOutcome>();
    for (const [grantId, outcome] of ledger.upgrades) {
      const orderId = byId.get(grantId)!.order_id;
      if (orderId) upgrades.set(orderId, outcome);
    }
    const periods = ledger.periods.map((p): SnapshotPeriod => {
      const g = byId.get(p.id)!;
      return { level: p.level, starts_at: p.startsAt, ends_at: p.endsAt, plan_code: g.plan_code, order_no: g.order_no };
    });
    return { periods, upgrades, write };
  }
}

/**
 * The first reading of the clock after `t`, as a Date. Hand-written: it waits on the millisecond
 * clock that Date and the ledger count in, which no timer library promises to step past.
 */
async function clockAfter(t: number): Promise<Date> {
  for (;;) {
    const now = Date.now();
    if (now > t) return new Date(now);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/**
 * The member's ledger resumed from their latest grant (resumeLedger), from what
 * insertGrantReadHeld read; null when it must be rebuilt from every grant instead: the order had
 * its grant already (nothing was inserted), the new grant is timed in the latest one's millisecond,
 * or the stored periods hold a grant's days in two periods after the latest grant, which a ledger
 * written by these rules never does.
 */
function resumedLedger(rows: HeldGrantRow[]): { ledger: Ledger; since: Date | null } | null {
  const added = rows.filter((r) => r.added);
  if (added.length !== 1) return null;
  const since = rows[0].since;
  // A first grant: there is nothing to resume from, and nothing stored to compare with.
  if (since === null) return { ledger: buildLedger(added.map(toLedgerGrant)), since: null };
  const held = rows.filter((r) => !r.added);
  if (new Set(held.map((r) => r.id)).size !== held.length) return null;
  const ledger = resumeLedger(
    held.map((r) => ({
      period: { id: r.id, level: r.held_level!, startsAt: r.held_starts_at!, endsAt: r.held_ends_at! },
      owner: toLedgerGrant(r),
    })),
    since,
    added.map(toLedgerGrant),
  );
  return ledger ? { ledger, since } : null;
}

/** The columns of a grant the ledger reads. */
type LedgerInputs =
  | 'id'
  | 'kind'
  | 'level'
  | 'duration_ms'
  | 'withdrawn_ms'
  | 'granted_at'
  | 'order_created_at'
  | 'upgrade_from_level'
  | 'upgrade_quoted_ms'
  | 'upgrade_quoted_at';

/** A standing grant as the ledger takes it: what partial refunds and shortfalls took back is not there. */
export function toLedgerGrant(r: Pick<GrantRow, LedgerInputs>): LedgerGrant {
  return {
    id: r.id,
    kind: r.kind,
    level: r.level,
    durationMs: Number(r.duration_ms) - (r.kind === 'upgrade' ? 0 : Number(r.withdrawn_ms)),
    grantedAt: r.granted_at,
    orderCreatedAt: r.order_created_at ?? r.granted_at,
    upgrade:
      r.kind === 'upgrade'
        ? {
            fromLevel: r.upgrade_from_level!,
            quotedMs: Number(r.upgrade_quoted_ms) - Number(r.withdrawn_ms),
            quotedAt: r.upgrade_quoted_at!,
          }
        : undefined,
  };
}

/** The grant's plan's price over its days. */
const planPriceOf = (r: GrantRow): PlanPrice => ({ priceFen: r.plan_price, durationDays: r.plan_days });

/**
 * What the member paid for the days of a grant: a purchase's or renewal's own price (its plan's may
 * have changed since), otherwise (an upgrade's converted days, carried-over days) its plan's price.
 */
const paidPriceOf = (r: GrantRow): PlanPrice => ({
  priceFen: r.kind === 'add' && r.order_amount !== null ? r.order_amount : r.plan_price,
  durationDays: r.plan_days,
});

/** What a membership snapshot shows of a period. */
type SnapshotPeriod = Pick<PeriodRow, 'level' | 'starts_at' | 'ends_at' | 'plan_code' | 'order_no'>;

const toLedgerPeriod = (p: PeriodRow) => ({ id: p.order_id ?? '', level: p.level, startsAt: p.starts_at, endsAt: p.ends_at });

/** What the pricing rules see: the level running now and that level's days still to run. */
function standing(periods: PeriodRow[], now: Date) {
  const s = standingAt(
    periods.map((p) => ({ ...toLedgerPeriod(p), row: p })),
    now,
  );
  if (!s.current) return null;
  return {
    level: s.level,
    remaining: s.remaining.map(({ period, ms }) => ({ ms, plan: { priceFen: period.row.plan_price, durationDays: period.row.plan_days } })),
  };
}

function toSnapshot(periods: readonly SnapshotPeriod[], now: Date): MembershipSnapshot {
  const t = now.getTime();
  const ahead = periods.filter((p) => p.ends_at.getTime() > t);
  const running = ahead.find((p) => p.starts_at.getTime() <= t);
  const last = ahead[ahead.length - 1];
  return {
    level: running ? running.level : null,
    expires_at: last ? last.ends_at.toISOString() : null,
    periods: ahead.map((p): PeriodView => ({
      level: p.level,
      plan_code: p.plan_code,
      starts_at: p.starts_at.toISOString(),
      ends_at: p.ends_at.toISOString(),
      order_no: p.order_no,
    })),
  };
}

/**
 * Every plan of a higher level upgrades the same days to that level, each at its own daily price:
 * offered side by side they are one choice at several prices. The offer is one upgrade per level,
 * the one that costs the member least (the plan with the lowest daily price); create-order still
 * prices an upgrade through any plan of that level by that plan's own rate.
 */
export function oneUpgradePerLevel(quotes: QuoteView[]): QuoteView[] {
  const best = new Map<number, QuoteView>();
  for (const q of quotes) {
    if (q.kind !== 'upgrade') continue;
    const held = best.get(q.plan.level);
    if (!held || q.amount < held.amount || (q.amount === held.amount && q.plan.duration_days > held.plan.duration_days))
      best.set(q.plan.level, q);
  }
  return quotes.filter((q) => q.kind !== 'upgrade' || best.get(q.plan.level) === q);
}
