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

/**
 * A provider's fee on one line of its daily bill, exactly as the bill states it. Fees are not money
 * we charge, and the providers compute them finer than a fen: WeChat Pay's 手续费 has five decimals of
 * yuan (`0.11940` on 19.90 at 0.6 %), Alipay's 服务费 two. Rounding such a fee to integer fen would
 * make a day's fees disagree with the provider's own total (手续费总金额) by up to half a fen a line,
 * so it is kept as an integer of 1/1000 fen (0.00001 yuan, the finest unit a bill writes), which adds
 * up exactly with integer arithmetic, together with the number of decimals the bill wrote it with, so
 * that it is shown again with the bill's own precision. Never a float.
 */
export interface BillFee {
  /** In 1/1000 fen (0.00001 yuan); negative when the provider gives a fee back (on a refund). */
  milliFen: number;
  /** Decimals of yuan the bill wrote (WeChat Pay 5, Alipay 2). */
  decimals: number;
}

const BILL_FEE = /^(-?)(0|[1-9]\d{0,10})(?:\.(\d{1,5}))?$/;

/** A fee column of a bill ("0.11940", "-0.12", padded with spaces or tabs); null when malformed or finer than 0.00001 yuan. */
export function billFee(text: string): BillFee | null {
  const m = BILL_FEE.exec(text.trim());
  if (!m) return null;
  const decimals = m[3]?.length ?? 0;
  const magnitude = Number(m[2]) * 100_000 + Number((m[3] ?? '').padEnd(5, '0'));
  if (!Number.isSafeInteger(magnitude)) return null;
  return { milliFen: m[1] === '-' && magnitude !== 0 ? -magnitude : magnitude, decimals };
}

/** A fee in yuan with the bill's own decimals; the value is exact (a bill never writes finer than its decimals). */
export function feeToYuan(fee: BillFee): string {
  if (!Number.isSafeInteger(fee.milliFen) || !Number.isInteger(fee.decimals) || fee.decimals < 0 || fee.decimals > 5) {
    throw new RangeError('a fee is an integer of 1/1000 fen with 0 to 5 decimals');
  }
  const sign = fee.milliFen < 0 ? '-' : '';
  const abs = Math.abs(fee.milliFen);
  const whole = Math.trunc(abs / 100_000);
  const rest = String(abs % 100_000).padStart(5, '0');
  // Digits beyond the bill's decimals are zeros by construction; should one not be, it is shown, never dropped.
  const shown = rest.slice(0, fee.decimals) + rest.slice(fee.decimals).replace(/0+$/, '');
  return `${sign}${whole}${shown ? `.${shown}` : ''}`;
}
