/**
 * Money is integer fen everywhere inside; yuan strings exist only at the Alipay boundary.
 * Conversions are string arithmetic, never floating point (docs/alipay.md#amounts: 0.29 * 100 is
 * 28.999999999999996 in JavaScript).
 */
const YUAN = /^(0|[1-9]\d{0,8})(?:\.(\d{1,2}))?$/;
const MAX_FEN = 100_000_000_00; // Alipay's ceiling: 100,000,000 yuan

export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen) || fen < 0) throw new RangeError('fen must be a non-negative integer');
  const whole = Math.trunc(fen / 100);
  const rest = fen % 100;
  return `${whole}.${String(rest).padStart(2, '0')}`;
}

/** "29.9", "29.90" and "29" are all accepted; anything else (signs, exponents, 3 decimals) is null. */
export function yuanToFen(yuan: string): number | null {
  const m = YUAN.exec(yuan);
  if (!m) return null;
  const fen = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return fen <= MAX_FEN ? fen : null;
}

const BILL_AMOUNT = /^(-?)(0|[1-9]\d{0,8})(?:\.(\d{1,2})0*)?$/;

/**
 * An amount column of a provider's daily bill, in yuan: signed (Alipay writes refunds negative),
 * possibly padded with spaces or tabs, and sometimes written with more decimals than cents
 * ("0.01000"), which are accepted only when the extra digits are zeros. Null when malformed.
 */
export function billYuanToFen(text: string): number | null {
  const m = BILL_AMOUNT.exec(text.trim());
  if (!m) return null;
  const fen = yuanToFen(m[3] === undefined ? m[2] : `${m[2]}.${m[3]}`);
  if (fen === null) return null;
  return m[1] === '-' && fen !== 0 ? -fen : fen;
}
