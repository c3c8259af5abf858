import type { BillRow } from '../payments/provider-bill';
import { compareBill, LocalBooks } from './compare-bill';
import type { LocalPayment, LocalRefund } from './reconciliation.repository';

const pay = (paymentNo: string, amountFen: number, status = 'SUCCESS'): BillRow => ({
  kind: 'payment',
  paymentNo,
  refundNo: null,
  providerTradeNo: `T${paymentNo}`,
  amountFen,
  status,
  fee: { milliFen: amountFen * 6, decimals: 5 },
});
const refund = (refundNo: string, paymentNo: string, amountFen: number, status = 'SUCCESS'): BillRow => ({
  kind: 'refund',
  paymentNo,
  refundNo,
  providerTradeNo: null,
  amountFen,
  status,
  fee: null,
});
const ours = (paymentNo: string, amountFen: number, status = 'success'): LocalPayment => ({
  paymentNo,
  amountFen,
  status,
  transactionId: null,
});
const oursRefund = (refundNo: string, paymentNo: string, amountFen: number, status = 'success'): LocalRefund => ({
  refundNo,
  paymentNo,
  amountFen,
  status,
});

function books(dayPayments: LocalPayment[], dayRefunds: LocalRefund[] = [], others: LocalPayment[] = []): LocalBooks {
  return {
    dayPayments,
    dayRefunds,
    paymentsByNo: new Map([...dayPayments, ...others].map((p) => [p.paymentNo, p])),
    refundsByNo: new Map(dayRefunds.map((r) => [r.refundNo, r])),
  };
}
const outcomes = (items: ReturnType<typeof compareBill>) => Object.fromEntries(items.map((i) => [`${i.kind} ${i.reference}`, i.outcome]));

describe('compareBill', () => {
  it('sorts every line of both sides into one outcome', () => {
    const items = compareBill(
      [
        pay('A', 1990),
        pay('B', 1990),
        pay('C', 2990),
        pay('E', 100, 'REVOKED'),
        refund('R1', 'A', 500),
        refund('R2', 'A', 500, 'PROCESSING'),
        refund('R3', 'A', 1),
      ],
      books(
        [ours('A', 1990), ours('C', 1990), ours('D', 990), ours('E', 100, 'refunded')],
        [oursRefund('R1', 'A', 500), oursRefund('R2', 'A', 500, 'processing'), oursRefund('R4', 'A', 7, 'processing')],
        [ours('B', 1990, 'closed')],
      ),
    );
    expect(outcomes(items)).toEqual({
      'payment A': 'matched',
      'payment B': 'missing_locally', // closed here, paid there
      'payment C': 'amount_mismatch',
      'payment D': 'missing_at_provider',
      'payment E': 'status_mismatch',
      'refund R1': 'matched',
      'refund R2': 'matched',
      'refund R3': 'missing_locally',
      'refund R4': 'missing_at_provider',
    });
  });

  it('an empty bill against an empty day is an empty result', () => {
    expect(compareBill([], books([]))).toEqual([]);
  });

  it('a number the bill lists twice is never taken as matched', () => {
    const [item] = compareBill([pay('A', 1990), pay('A', 1990)], books([ours('A', 1990)]));
    expect(item).toMatchObject({ outcome: 'amount_mismatch', detail: expect.stringContaining('more than once') });
  });
});
