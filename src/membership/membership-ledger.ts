/**
 * The membership ledger: which level a member holds over which span of time, derived from the
 * grants that stand (one per paid, unrefunded order). A pure function, so the same set of grants
 * always yields the same periods, whatever order the grants were written in: settlement under
 * concurrency, payments arriving in any order and refunds all reduce to "rebuild from the grants".
 * A new grant, timed after every other, may instead resume from the ledger as stored after the
 * latest grant (resumeLedger): the same rules from the same state, without replaying years of grants.
 *
 * The rules:
 * - A purchase or renewal (`add`) brings its plan's days at its plan's level. Days are kept: they
 *   are never lost or created, only laid out in time.
 * - At any moment the days held run highest level first, then the next level down; within a level,
 *   in the order they were granted. Days start running when they are granted (or when the days
 *   ahead of them end), never before.
 * - An upgrade converts exactly the days it was priced on: the days of `fromLevel` that stood when
 *   it was quoted (granted strictly before `quotedAt`), up to `quotedMs`. Days granted later keep
 *   their level. The quote is made under the member's lock and timed strictly after every grant it
 *   saw, so a grant it did not see is timed at or after it: "before the quote" and "seen by the
 *   quote" are the same grants. When fewer of those days are left at payment (they ran, or a refund
 *   took them), it converts what is left and the rest is its shortfall. The outcome says whose days
 *   it converted, so the shortfall can be priced at the daily prices of the days actually converted.
 * - An `opening` grant is a period carried over from before the ledger existed: its days at its
 *   level, starting at `grantedAt`.
 */

export const DAY_MS = 86_400_000;

export interface LedgerGrant {
  /** The grant's identity; periods carry it back. */
  id: string;
  kind: 'add' | 'upgrade' | 'opening';
  level: number;
  /** add / opening: the days brought, in milliseconds. */
  durationMs: number;
  /** When the days were granted (the settlement); the ledger replays grants in this order. */
  grantedAt: Date;
  /** Ties on grantedAt are broken by the order's creation, then its id: a total order. */
  orderCreatedAt: Date;
  upgrade?: { fromLevel: number; quotedMs: number; quotedAt: Date };
}

export interface LedgerPeriod {
  /** The grant whose days these are. */
  id: string;
  level: number;
  startsAt: Date;
  endsAt: Date;
}

export interface UpgradeOutcome {
  convertedMs: number;
  shortfallMs: number;
  /** Whose days it converted: by the id of the grant that brought them, how many milliseconds (together convertedMs). */
  convertedFrom: { id: string; ms: number }[];
}

export interface Ledger {
  /** Every period, past and future, in time order; adjacent spans of one order and level merged. */
  periods: LedgerPeriod[];
  /** By upgrade grant id: how much it converted and how much of what it was priced on was missing. */
  upgrades: Map<string, UpgradeOutcome>;
}

/** Days not yet run, owned by the grant that brought them at this level. */
interface Chunk {
  id: string;
  level: number;
  ms: number;
  owner: LedgerGrant;
}

/** The order the ledger replays grants in: by grantedAt, then the order's creation, then the id. */
export const byGrantOrder = (a: LedgerGrant, b: LedgerGrant) =>
  a.grantedAt.getTime() - b.grantedAt.getTime() ||
  a.orderCreatedAt.getTime() - b.orderCreatedAt.getTime() ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Highest level first; within a level, in the order the days were granted. */
const runOrder = (a: Chunk, b: Chunk) => b.level - a.level || byGrantOrder(a.owner, b.owner);

export function buildLedger(grants: readonly LedgerGrant[]): Ledger {
  const { periods, upgrades } = replay(null, [], [...grants].sort(byGrantOrder));
  return { periods: mergeContiguous(periods), upgrades };
}

/** A stored period of the ledger and the grant whose days it holds (the grant's ordering keys are what matter). */
export interface HeldPeriod {
  period: LedgerPeriod;
  owner: LedgerGrant;
}

/**
 * The ledger from `since` on, resumed from the periods stored for the grants up to `since` instead
 * of replayed from the first grant: what a settlement of a member with years of grants needs, at
 * the cost of one grant instead of all of them. The same rules, the same result:
 *
 * - `since` is the moment of the latest grant the stored ledger was built from (the replay's last
 *   cursor). From there, the stored periods that end after it are exactly the days then held, one
 *   period per grant that holds any, in the order they run; `held` is those periods with their grants.
 * - `grants` are the grants to add, every one of them timed after `since`. When one is not (a grant
 *   in the same millisecond as the last), null: the caller rebuilds from every grant.
 *
 * Returns the periods that end after `since` (the first may start before it: the stored period
 * running then, extended) and the outcomes of the upgrades among `grants`. The periods that end at
 * or before `since` are what they were.
 */
export function resumeLedger(held: readonly HeldPeriod[], since: Date, grants: readonly LedgerGrant[]): Ledger | null {
  const t = since.getTime();
  if (grants.some((g) => g.grantedAt.getTime() <= t)) return null;
  const before: LedgerPeriod[] = [];
  const chunks: Chunk[] = [];
  for (const { period: p, owner } of held) {
    const start = p.startsAt.getTime();
    if (start < t) before.push({ ...p, endsAt: since });
    chunks.push({ id: p.id, level: p.level, ms: p.endsAt.getTime() - Math.max(start, t), owner });
  }
  const { periods, upgrades } = replay(t, chunks, [...grants].sort(byGrantOrder));
  return { periods: mergeContiguous([...before, ...periods]), upgrades };
}

/**
 * Replays `sorted` (in grant order) from `cursor`, holding `chunks` there: the periods that run from
 * the cursor on (history between grants, then the days still held laid out after the last), not yet
 * merged, and each upgrade's outcome.
 */
function replay(cursor: number | null, chunks: Chunk[], sorted: readonly LedgerGrant[]): Ledger {
  const history: LedgerPeriod[] = [];
  const upgrades = new Map<string, UpgradeOutcome>();

  /** Runs the held days from the cursor up to `t`: what ran becomes history. */
  const advance = (t: number) => {
    if (cursor === null || t <= cursor) {
      cursor = cursor === null ? t : cursor;
      return;
    }
    let at = cursor;
    const left: Chunk[] = [];
    for (const c of chunks.sort(runOrder)) {
      if (at >= t) {
        left.push(c);
        continue;
      }
      const ran = Math.min(c.ms, t - at);
      history.push({ id: c.id, level: c.level, startsAt: new Date(at), endsAt: new Date(at + ran) });
      at += ran;
      if (c.ms > ran) left.push({ ...c, ms: c.ms - ran });
    }
    chunks = left;
    cursor = t;
  };

  for (const g of sorted) {
    advance(g.grantedAt.getTime());
    if (g.kind !== 'upgrade') {
      if (g.durationMs > 0) chunks.push({ id: g.id, level: g.level, ms: g.durationMs, owner: g });
      continue;
    }
    const { fromLevel, quotedMs, quotedAt } = g.upgrade!;
    let wanted = quotedMs;
    const kept: Chunk[] = [];
    const from = new Map<string, number>();
    for (const c of chunks.sort(runOrder)) {
      const eligible = c.level === fromLevel && c.owner.grantedAt.getTime() < quotedAt.getTime();
      const take = eligible ? Math.min(c.ms, wanted) : 0;
      wanted -= take;
      if (take > 0) from.set(c.id, (from.get(c.id) ?? 0) + take);
      if (c.ms > take) kept.push({ ...c, ms: c.ms - take });
    }
    const convertedMs = quotedMs - wanted;
    if (convertedMs > 0) kept.push({ id: g.id, level: g.level, ms: convertedMs, owner: g });
    chunks = kept;
    upgrades.set(g.id, { convertedMs, shortfallMs: wanted, convertedFrom: [...from].map(([id, ms]) => ({ id, ms })) });
  }

  const future: LedgerPeriod[] = [];
  let at = cursor ?? 0;
  for (const c of chunks.sort(runOrder)) {
    future.push({ id: c.id, level: c.level, startsAt: new Date(at), endsAt: new Date(at + c.ms) });
    at += c.ms;
  }
  return { periods: [...history, ...future], upgrades };
}

/** Joins spans that follow each other without a gap and belong to the same order at the same level. */
export function mergeContiguous<P extends { id: string; level: number; startsAt: Date; endsAt: Date }>(periods: P[]): P[] {
  const out: P[] = [];
  for (const p of periods) {
    if (p.endsAt.getTime() <= p.startsAt.getTime()) continue;
    const last = out[out.length - 1];
    if (last && last.id === p.id && last.level === p.level && last.endsAt.getTime() === p.startsAt.getTime()) {
      out[out.length - 1] = { ...last, endsAt: p.endsAt };
    } else {
      out.push(p);
    }
  }
  return out;
}

/** The level held at `now` (0 when none), and the days of that level still to run from `now`. */
export function standingAt<P extends LedgerPeriod>(
  periods: readonly P[],
  now: Date,
): { level: number; current: P | null; remaining: { period: P; ms: number }[] } {
  const t = now.getTime();
  const current = periods.find((p) => p.startsAt.getTime() <= t && t < p.endsAt.getTime()) ?? null;
  if (!current) return { level: 0, current: null, remaining: [] };
  const remaining = periods
    .filter((p) => p.level === current.level && p.endsAt.getTime() > t)
    .map((period) => ({ period, ms: period.endsAt.getTime() - Math.max(t, period.startsAt.getTime()) }));
  return { level: current.level, current, remaining };
}

/** The end of the coverage that runs through `now` without a gap, and where it started. */
export function coverageAround<P extends LedgerPeriod>(periods: readonly P[], now: Date): { startedAt: Date; endsAt: Date } | null {
  const t = now.getTime();
  const i = periods.findIndex((p) => p.startsAt.getTime() <= t && t < p.endsAt.getTime());
  if (i < 0) return null;
  let start = i;
  while (start > 0 && periods[start - 1].endsAt.getTime() === periods[start].startsAt.getTime()) start--;
  let end = i;
  while (end + 1 < periods.length && periods[end].endsAt.getTime() === periods[end + 1].startsAt.getTime()) end++;
  return { startedAt: periods[start].startsAt, endsAt: periods[end].endsAt };
}
