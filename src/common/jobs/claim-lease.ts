import type { AppConfig } from '../../config/app-config';

/**
 * How long a job's claim keeps other instances away: long enough for a whole batch to time out at
 * the provider twice (a close can be followed by a query, a refund query by the refund sent again),
 * plus a margin. It only matters when an instance dies mid-batch; then its rows wait this long.
 */
export function leaseUntil(now: Date, config: AppConfig, batch: number): Date {
  return new Date(now.getTime() + batch * 2 * config.providerTimeoutMs + 60_000);
}
