// Time formats of the two protocols. WeChat uses RFC 3339 with an offset (docs/wechat-pay.md#times);
// Alipay uses `yyyy-MM-dd HH:mm:ss` in Beijing time (docs/alipay.md#times).

const BEIJING_OFFSET_MS = 8 * 3600_000;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function beijingParts(date: Date): string[] {
  const d = new Date(date.getTime() + BEIJING_OFFSET_MS);
  return [
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  ];
}

/** `yyyy-MM-dd HH:mm:ss`, Beijing time (Alipay). */
export function beijingDateTime(date: Date): string {
  return beijingParts(date).join(' ');
}

/** `yyyy-MM-ddTHH:mm:ss+08:00` (WeChat Pay). */
export function rfc3339Beijing(date: Date): string {
  return `${beijingParts(date).join('T')}+08:00`;
}

export function unixSeconds(date: Date = new Date()): number {
  return Math.floor(date.getTime() / 1000);
}

/** UTC epoch ms of calendar fields, or null when a field is out of range (e.g. 30 February). */
function utcOf(y: number, mo: number, d: number, h: number, mi: number, s: number): number | null {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  const same =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi &&
    back.getUTCSeconds() === s;
  return same ? ms : null;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):(\d{2})$/;

/**
 * Parses the WeChat `time_expire` layout `yyyy-MM-DDTHH:mm:ss+TIMEZONE` (docs/wechat-pay.md#native-orders). The
 * documented layout has a numeric offset and no fraction, so `Z` and `.123` are refused: a value
 * from `Date.toISOString()` would be a bug to catch here, not in production.
 */
export function parseRfc3339(text: string): Date | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s, sign, oh, om] = [m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9]];
  const local = utcOf(+y, +mo, +d, +h, +mi, +s);
  if (local === null || +oh > 14 || +om > 59) return null;
  const offsetMs = (+oh * 60 + +om) * 60_000 * (sign === '+' ? 1 : -1);
  return new Date(local - offsetMs);
}

const ALIPAY_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Parses `yyyy-MM-dd HH:mm:ss` as Beijing time; null when malformed. */
export function parseBeijingDateTime(text: string): Date | null {
  const m = ALIPAY_DATETIME.exec(text);
  if (!m) return null;
  const local = utcOf(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6]);
  return local === null ? null : new Date(local - BEIJING_OFFSET_MS);
}

/** The next Beijing midnight after `date` (Alipay `1c`, docs/alipay.md#precreate). */
export function nextBeijingMidnight(date: Date): Date {
  const shifted = new Date(date.getTime() + BEIJING_OFFSET_MS);
  const midnight = Date.UTC(shifted.getUTCFullYear(), shifted.getUTCMonth(), shifted.getUTCDate() + 1);
  return new Date(midnight - BEIJING_OFFSET_MS);
}
