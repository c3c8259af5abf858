// @ts-check
// Amounts arrive in integer fen; they are shown in yuan with integer arithmetic only, as the service
// does (src/common/money.ts): 1990 fen is "¥19.90", never a float that could read 19.899999.

/** @param {number | null | undefined} fen */
export function yuan(fen) {
  if (fen === null || fen === undefined) return '—';
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const YUAN = /^(0|[1-9]\d{0,8})(?:\.(\d{1,2}))?$/;

/**
 * What support types ("5", "5.5", "5.50", "¥5.50") as fen, by string arithmetic; null when it is
 * not an amount of yuan with at most two decimals.
 * @param {string} text
 */
export function parseYuan(text) {
  const m = YUAN.exec(text.trim().replace(/^[¥￥]\s*/, ''));
  if (!m) return null;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/** @param {string} lang @param {string | null | undefined} iso */
export function dateTime(lang, iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'medium',
    timeZone: 'Asia/Shanghai',
  }).format(new Date(iso));
}

/** @param {string} lang @param {string | null | undefined} iso */
export function date(lang, iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeZone: 'Asia/Shanghai' }).format(
    new Date(iso),
  );
}

/** Today's Beijing day, YYYY-MM-DD: the bills and the reconciliation count days in Beijing time. */
export function beijingToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(),
  );
}

/** The start of a Beijing day as an ISO instant (for the created_at filters). @param {string} day */
export const beijingStart = (day) => `${day}T00:00:00+08:00`;
