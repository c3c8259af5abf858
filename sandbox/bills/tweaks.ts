// Row-level bill faults (POST /sandbox/bills/tweaks): a trade or refund left out of its day's bill,
// or shown with another amount. Kept apart from the trades themselves so that the query API still
// tells the truth, as it does at a provider whose bill is wrong.
import type { Provider } from '../faults';
import { isPlainObject } from '../http';

export interface BillTweak {
  provider: Provider;
  /** The payment's out_trade_no, or the refund's out_refund_no / out_request_no. */
  number: string;
  kind: 'payment' | 'refund';
  omit?: boolean;
  amountFen?: number;
}

export function parseTweak(body: unknown): BillTweak | string {
  if (!isPlainObject(body)) return 'body must be a JSON object';
  const { provider, out_trade_no: trade, out_refund_no: refund, omit, amount_fen: amount } = body;
  if (provider !== 'wechat' && provider !== 'alipay') return "provider must be 'wechat' or 'alipay'";
  if ((typeof trade === 'string') === (typeof refund === 'string')) return 'name exactly one of out_trade_no, out_refund_no';
  if ((omit === true) === (amount !== undefined)) return 'give either "omit": true or "amount_fen"';
  if (amount !== undefined && !(Number.isSafeInteger(amount) && (amount as number) >= 0))
    return 'amount_fen must be a non-negative integer';
  return {
    provider,
    kind: typeof trade === 'string' ? 'payment' : 'refund',
    number: (trade ?? refund) as string,
    ...(omit === true ? { omit: true } : { amountFen: amount as number }),
  };
}

export class BillTweaks {
  private tweaks: BillTweak[] = [];

  add(tweak: BillTweak): void {
    this.tweaks = this.tweaks.filter((t) => !(t.provider === tweak.provider && t.kind === tweak.kind && t.number === tweak.number));
    this.tweaks.push(tweak);
  }

  clear(): void {
    this.tweaks = [];
  }

  list(): BillTweak[] {
    return [...this.tweaks];
  }

  find(provider: Provider, kind: 'payment' | 'refund', number: string): BillTweak | undefined {
    return this.tweaks.find((t) => t.provider === provider && t.kind === kind && t.number === number);
  }
}
