import { Injectable, Logger, Optional } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { NotFoundError } from '../common/errors/domain-error';
import { DomainError } from '../common/errors/domain-error';
import { MetricsService } from '../metrics/metrics.service';
import { buildLedger, coverageAround, DAY_MS, LedgerGrant, standingAt, UpgradeOutcome } from './membership-ledger';
import { AutoRenewals, type MemberContract } from './auto-renewals';
import { entitlementAt, EntitlementView } from './entitlement';
import { MembershipPlan } from './membership-plan.entity';
import { quote, Quote, shortfallFen } from './membership-pricing';
import { GrantRow, MembershipRepository, PeriodRow } from './membership.repository';
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

  /** The plan and the price this user pays for it now (throws 404 / 409 as the rules say). */
  async quoteFor(userId: string, planId: number, isUpgrade: boolean, now: Date): Promise<{ plan: MembershipPlan; quote: Quote }> {
    const [plan, periods] = await Promise.all([this.activePlan(planId), this.repo.periods(this.dataSource.manager, userId, now)]);
    return { plan, quote: quote(plan, standing(periods, now), isUpgrade) };
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
    const [periods, contracts] = await Promise.all([
      this.repo.periods(this.dataSource.manager, userId, null),
      this.autoRenewals?.ofMembers([userId]),
    ]);
    const contract = contracts?.get(userId);
    const t = now.getTime();
    const asLedger = periods.map(toLedgerPeriod);
    const running = standingAt(asLedger, now).current;
    const coverage = coverageAround(asLedger, now);
    const snapshot = toSnapshot(periods, now);
    const row = running ? periods[asLedger.indexOf(running)] : null;
    return {
      user_id: userId,
      active: periods.some((p) => p.starts_at.getTime() <= t && t < p.ends_at.getTime()),
      ...snapshot,
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
    await this.repo.lockMember(m, order.userId);
    const now = new Date();
    const upgrade =
      order.isUpgrade && order.upgradeFromLevel !== null && order.upgradeMs !== null
        ? { fromLevel: order.upgradeFromLevel, quotedMs: order.upgradeMs, quotedAt: order.createdAt }
        : undefined;
    const standing = await this.repo.insertGrantReadStanding(m, {
      orderId: order.orderId,
      userId: order.userId,
      planId: order.planId,
      level: order.planLevel,
      grantedAt: now,
      kind: upgrade ? 'upgrade' : 'add',
      durationMs: upgrade ? 0 : order.planDays * DAY_MS,
      upgrade,
    });
    const rebuilt = await this.rebuild(m, order.userId, standing);
    // The rebuild says whether the upgrade missed any of its time: only then is the shortfall taken.
    const short = upgrade && (rebuilt.upgrades.get(order.orderId)?.shortfallMs ?? 0) > 0;
    const missing = short ? await this.takeUnconverted(m, order.orderId, order.orderNo, order.amountFen) : 0;
    return { membership: toSnapshot(rebuilt.periods, now), shortfallFen: missing };
  }

  /**
   * An upgrade's quoted time that its days were no longer there to convert: taken back from its
   * grant (so no later rebuild counts it again) and priced, in fen, at the upgrade's own price per
   * millisecond, for the caller to refund. The caller holds the member's lock (or this takes it).
   */
  async takeUnconverted(m: EntityManager, orderId: string, orderNo: string, amountFen: number): Promise<number> {
    const left = await this.repo.unconvertedMs(m, orderId);
    if (!left || left.ms <= 0) return 0;
    await this.repo.lockMember(m, left.user_id);
    const again = await this.repo.unconvertedMs(m, orderId);
    if (!again || again.ms <= 0) return 0;
    await this.repo.addWithdrawn(m, orderId, BigInt(again.ms));
    const fen = shortfallFen(amountFen, again.quotedMs, again.ms);
    if (fen > 0) {
      this.metrics.upgradeShortfall.inc(fen);
      this.logger.warn(`order ${orderNo}: upgrade short of ${Math.round(again.ms / 60_000)} of its quoted minutes; ${fen} fen to refund`);
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
    const ms = fen >= ofFen ? total : (total * BigInt(fen) + BigInt(ofFen) - 1n) / BigInt(ofFen);
    const left = await this.repo.addWithdrawn(m, orderId, ms);
    if (left && BigInt(left.left_ms) <= 0n) await this.repo.revokeGrant(m, orderId);
    const rebuilt = await this.rebuild(m, userId, await this.repo.standingGrants(m, userId));
    const shortUpgrades = [...rebuilt.upgrades].filter(([, o]) => o.shortfallMs > 0).map(([id]) => id);
    return { membership: toSnapshot(rebuilt.periods, now), shortUpgrades };
  }

  /**
   * Rebuilds the member's periods from their standing grants (read after the member's lock, which
   * the caller holds) and writes them. Returns the periods as written, in time order, and each
   * upgrade's outcome keyed by order id.
   */
  private async rebuild(
    m: EntityManager,
    userId: string,
    rows: GrantRow[],
  ): Promise<{ periods: SnapshotPeriod[]; upgrades: Map<string, UpgradeOutcome> }> {
    const byId = new Map(rows.map((r) => [r.id, r]));
    const ledger = buildLedger(
      rows.map((r): LedgerGrant => ({
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
      })),
    );
    await this.repo.replaceLedger(
      m,
      userId,
      ledger.periods.map((p) => {
        const g = byId.get(p.id)!;
        return { ...p, grantId: g.id, orderId: g.order_id, planId: g.plan_id };
      }),
      ledger.upgrades,
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
    return { periods, upgrades };
  }
}

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
