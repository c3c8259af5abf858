// Alipay amounts are two-decimal yuan strings, WeChat amounts integer fen (docs/alipay.md#amounts, docs/wechat-pay.md#amounts).
// Converted with integer arithmetic only: parseFloat(x) * 100 is not exact.

const YUAN = /^(0|[1-9]\d{0,8})(\.\d{1,2})?$/;

/** Yuan string -> fen, or null when malformed. */
export function yuanToFen(text: string): number | null {
  const m = YUAN.exec(text);
  if (!m) return null;
  const fraction = (m[2] ?? '.').slice(1).padEnd(2, '0');
  return Number(m[1]) * 100 + Number(fraction);
}

export function fenToYuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}
