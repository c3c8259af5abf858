// Fault switches for the provider APIs (sandbox/README.md#fault-modes). A fault is consumed by the
// next matching API call, after request authentication (a badly signed request still gets its
// 401/40002), so a test sees exactly the failure it asked for. error-500, rate-limit, garbage and
// hang answer without running the operation; every other mode runs it, then spoils the answer
// (an answer that fails verification does not prove the call had no effect: docs/wechat-pay.md#notification-signatures).
import { isPlainObject } from './http';

export type Provider = 'wechat' | 'alipay';
export type FaultOp =
  'native' | 'app' | 'jsapi' | 'h5' | 'precreate' | 'query' | 'close' | 'refund' | 'refund-query' | 'bill' | ContractOp | '*';
/**
 * The contract calls (docs/contracts.md): WeChat `contractorder`, `pappayapply` (deduct), `paporderquery`
 * (deduct-query), `querycontract` (contract-query), `deletecontract` (terminate), the v3 `notice`; Alipay
 * `alipay.trade.pay` (deduct), `alipay.user.agreement.query` (contract-query) and `.unsign` (terminate).
 */
export type ContractOp = 'contractorder' | 'deduct' | 'deduct-query' | 'contract-query' | 'terminate' | 'notice';
export type FaultMode =
  | 'error-500'
  | 'hang'
  | 'garbage'
  | 'bad-signature'
  | 'unsigned'
  | 'probe'
  | 'rate-limit'
  | 'system-error-after-commit'
  | 'stale-timestamp'
  | 'unknown-serial'
  | 'claims-paid'
  | RefundOutcomeFault
  | BillFault
  | DeductionFault;

/**
 * Faults that change how a deduction ends (op `deduct` only): `declined` (the member's balance is short:
 * WeChat PAY_FAIL NOTENOUGH by callback, Alipay ACQ.BUYER_BALANCE_NOT_ENOUGH), `no-callback` (charged, but
 * the result is never sent: only a query tells), `cycle-limit` (refused as a second deduction in the cycle:
 * WeChat RULELIMIT, Alipay ACQ.CYCLE_PAY_TOTAL_TIMES_EXCEED). `system-error-after-commit` on `deduct`
 * answers SYSTEMERROR / ACQ.SYSTEM_ERROR although the charge went through: a query then says SUCCESS.
 */
export type DeductionFault = 'declined' | 'no-callback' | 'cycle-limit';
export const DEDUCTION_FAULTS: readonly FaultMode[] = ['declined', 'no-callback', 'cycle-limit'];

/**
 * Faults of the bill apply APIs (op `bill` only): `bill-not-ready` (WeChat Pay STATEMENT_CREATING,
 * Alipay isp.bill_not_exist) and `bill-wrong-hash` (WeChat Pay: hash_value not the file's SHA1).
 */
export type BillFault = 'bill-not-ready' | 'bill-wrong-hash';
export const BILL_FAULTS: readonly FaultMode[] = ['bill-not-ready', 'bill-wrong-hash'];

/**
 * Faults that change how a refund ends rather than spoil the answer (op `refund` only):
 * `refund-abnormal` / `refund-closed` (WeChat Pay: accepted, then ends ABNORMAL / CLOSED),
 * `refund-later` (accepted but left unfinished until POST /sandbox/refunds/settle),
 * `refund-window-over` (refused: the trade is past its refund window),
 * `balance-not-enough` (Alipay: ACQ.SELLER_BALANCE_NOT_ENOUGH).
 */
export type RefundOutcomeFault = 'refund-abnormal' | 'refund-closed' | 'refund-later' | 'refund-window-over' | 'balance-not-enough';
export const REFUND_OUTCOME_FAULTS: readonly FaultMode[] = [
  'refund-abnormal',
  'refund-closed',
  'refund-later',
  'refund-window-over',
  'balance-not-enough',
];

const OPS: Record<Provider, readonly FaultOp[]> = {
  wechat: [
    'native',
    'app',
    'jsapi',
    'h5',
    'query',
    'close',
    'refund',
    'refund-query',
    'bill',
    'contractorder',
    'deduct',
    'deduct-query',
    'contract-query',
    'terminate',
    'notice',
    '*',
  ],
  alipay: ['precreate', 'query', 'close', 'refund', 'refund-query', 'bill', 'deduct', 'contract-query', 'terminate', '*'],
};
const MODES: Record<Provider, readonly FaultMode[]> = {
  wechat: [
    'error-500',
    'hang',
    'garbage',
    'bad-signature',
    'unsigned',
    'probe',
    'rate-limit',
    'system-error-after-commit',
    'stale-timestamp',
    'unknown-serial',
    'claims-paid',
    'refund-abnormal',
    'refund-closed',
    'refund-later',
    'refund-window-over',
    'bill-not-ready',
    'bill-wrong-hash',
    ...DEDUCTION_FAULTS,
  ],
  alipay: [
    'error-500',
    'hang',
    'garbage',
    'bad-signature',
    'unsigned',
    'rate-limit',
    'system-error-after-commit',
    'claims-paid',
    'refund-later',
    'refund-window-over',
    'balance-not-enough',
    'bill-not-ready',
    ...DEDUCTION_FAULTS,
  ],
};

export interface Fault {
  provider: Provider;
  op: FaultOp;
  mode: FaultMode;
  /** Calls left to fail; Infinity = until cleared. */
  remaining: number;
}

/** Validates a `POST /sandbox/faults` body; returns an error message when invalid. */
export function parseFault(body: unknown): Fault | string {
  if (!isPlainObject(body)) return 'body must be a JSON object';
  const { provider, op = '*', mode, times } = body;
  if (provider !== 'wechat' && provider !== 'alipay') return "provider must be 'wechat' or 'alipay'";
  if (!OPS[provider].includes(op as FaultOp)) return `op must be one of ${OPS[provider].join(', ')}`;
  if (!MODES[provider].includes(mode as FaultMode)) return `mode must be one of ${MODES[provider].join(', ')}`;
  if (REFUND_OUTCOME_FAULTS.includes(mode as FaultMode) && op !== 'refund') return `mode ${String(mode)} applies to op 'refund' only`;
  if (BILL_FAULTS.includes(mode as FaultMode) && op !== 'bill') return `mode ${String(mode)} applies to op 'bill' only`;
  if (DEDUCTION_FAULTS.includes(mode as FaultMode) && op !== 'deduct') return `mode ${String(mode)} applies to op 'deduct' only`;
  if (times !== undefined && !(Number.isInteger(times) && (times as number) >= 1)) {
    return 'times must be an integer >= 1';
  }
  return {
    provider,
    op: op as FaultOp,
    mode: mode as FaultMode,
    remaining: (times as number | undefined) ?? Infinity,
  };
}

export class FaultBook {
  private faults: Fault[] = [];

  add(fault: Fault): void {
    this.faults.push(fault);
  }

  clear(): void {
    this.faults = [];
  }

  list(): Array<Omit<Fault, 'remaining'> & { remaining: number | 'until-cleared' }> {
    return this.faults.map((f) => ({ ...f, remaining: f.remaining === Infinity ? 'until-cleared' : f.remaining }));
  }

  /** Consumes one use of the oldest fault matching this call, if any. */
  take(provider: Provider, op: Exclude<FaultOp, '*'>): FaultMode | undefined {
    const fault = this.faults.find((f) => f.provider === provider && (f.op === op || f.op === '*'));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault.mode;
  }
}
