// @ts-check
// Amounts arrive in integer fen; they are shown in yuan with integer arithmetic only, as the service
// does (src/common/money.ts): 1990 fen is "¥19.90", never a float that could read 19.899999.

/** @param {number} fen */
export function yuan(fen) {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** @param {string} lang @param {string | null | undefined} iso */
export function dateTime(lang, iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** @param {string} lang @param {string | null | undefined} iso */
export function date(lang, iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium' }).format(new Date(iso));
}

/** "4:07" for 247 seconds. @param {number} seconds */
export function minutesSeconds(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
