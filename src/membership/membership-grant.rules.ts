const DAY_MS = 86_400_000;

export interface NextMembership {
  level: number;
  expiresAt: Date;
  /** Set when the membership starts afresh (none before, or expired). */
  startedAt: Date | null;
  previousLevel: number | null;
  previousExpiresAt: Date | null;
  /** A remark for operators when the order no longer fits the membership it was priced for. */
  note?: string;
}

/**
 * What a paid order does to a membership (level 0 = none yet). A purchase or renewal adds the
 * plan's days from the current expiry (or from now when none is active); an upgrade raises the
 * level and keeps the expiry. Orders are priced when created and paid later, so the membership may
 * have changed in between: the member paid, so the order is honoured as closely as it can be.
 */
export function nextMembership(
  current: { level: number; expiresAt: Date },
  plan: { level: number; durationDays: number },
  isUpgrade: boolean,
  now: Date,
): NextMembership {
  const exists = current.level > 0;
  const active = exists && current.expiresAt.getTime() > now.getTime();
  const previous = { previousLevel: exists ? current.level : null, previousExpiresAt: exists ? current.expiresAt : null };
  if (isUpgrade) {
    return {
      ...previous,
      level: Math.max(current.level, plan.level),
      expiresAt: active ? current.expiresAt : now,
      startedAt: null,
      note: active ? undefined : 'upgrade paid after the membership had expired; level raised, no time added',
    };
  }
  const from = active ? current.expiresAt : now;
  return {
    ...previous,
    level: active ? Math.max(current.level, plan.level) : plan.level,
    expiresAt: new Date(from.getTime() + plan.durationDays * DAY_MS),
    startedAt: active ? null : now,
    note: active && current.level > plan.level
      ? `level-${plan.level} plan paid while a level-${current.level} membership was active; time added at the higher level`
      : undefined,
  };
}
