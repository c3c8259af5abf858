/**
 * The providers close their books by Beijing calendar day (UTC+08:00, no daylight saving): a
 * bill for day D holds what happened from D 00:00 to D+1 00:00 Beijing time.
 */
const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The Beijing wall-clock time of an instant, `YYYY-MM-DDTHH:mm:ss`, without an offset: each provider's layout adds its own. */
export function beijingDateTimeOf(instant: Date): string {
  return new Date(instant.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 19);
}

/** The Beijing calendar day of an instant, `YYYY-MM-DD`. */
export function beijingDayOf(instant: Date): string {
  return beijingDateTimeOf(instant).slice(0, 10);
}

/** True for a real calendar day written `YYYY-MM-DD`. */
export function isCalendarDay(text: string): boolean {
  const m = DAY.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/** The instants where a Beijing day starts (inclusive) and ends (exclusive). */
export function beijingDayRange(day: string): { start: Date; end: Date } {
  if (!isCalendarDay(day)) throw new RangeError(`not a calendar day: ${day}`);
  const [y, m, d] = day.split('-').map(Number);
  const start = new Date(Date.UTC(y, m - 1, d) - BEIJING_OFFSET_MS);
  return { start, end: new Date(start.getTime() + 24 * 3600_000) };
}

/** The day `days` after (or before, when negative) a day. */
export function addDays(day: string, days: number): string {
  const { start } = beijingDayRange(day);
  return beijingDayOf(new Date(start.getTime() + days * 24 * 3600_000));
}

/** The instant of a Beijing wall-clock time (`HH:mm`) on a day. */
export function beijingTimeOn(day: string, hhmm: string): Date {
  const [h, m] = hhmm.split(':').map(Number);
  return new Date(beijingDayRange(day).start.getTime() + (h * 60 + m) * 60_000);
}
