/**
 * The retry schedule, in units of the base delay (a minute in production): about 1 min, 5 min,
 * 30 min, 2 h, 8 h, then daily, for 3 days (4320 minutes) after the event.
 */
export const RETRY_STEPS = [1, 5, 30, 120, 480, 1440] as const;
export const RETRY_WINDOW_STEPS = 4320;

/**
 * The delay before the attempt after `failures` failed ones, with ±20 % jitter so that receivers
 * coming back from an outage are not hit by every sender's retry in the same second.
 */
export function retryDelayMs(failures: number, baseMs: number, random: () => number = Math.random): number {
  const step = RETRY_STEPS[Math.min(Math.max(failures, 1), RETRY_STEPS.length) - 1];
  return Math.round(step * baseMs * (0.8 + 0.4 * random()));
}

export const retryWindowMs = (baseMs: number) => RETRY_WINDOW_STEPS * baseMs;
