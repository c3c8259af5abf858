// The bill parsers' fees against bills written by the sandbox's own bill generator (sandbox/bills/),
// the files the service downloads in every e2e test: WeChat Pay's 手续费 with five decimals of yuan,
// Alipay's 服务费 with two, each read exactly and with the sign convention of BillRow.fee.
import { createHash } from 'node:crypto';
import type { SandboxContext } from '../../sandbox/context';
import { alipayBillZip } from '../../sandbox/bills/alipay-bill';
import type { LedgerRow } from '../../sandbox/bills/ledger';
import { wechatBillFile } from '../../sandbox/bills/wechat-bill';
import { billFee, feeToYuan } from '../../src/common/money';
import { parseAlipayBill } from '../../src/payments/providers/alipay/alipay.bill';
import { parseWechatBill } from '../../src/payments/providers/wechat/wechat-pay.bill';

// What the two generators read of a sandbox: the merchant's ids, and no trade (so the defaults: NATIVE, no attach).
const ctx = {
  keys: { wechat: { appId: 'wx0000000000000001', mchId: '1900000001' }, alipay: { sellerId: '2088000000000001' } },
  store: { wechat: new Map() },
} as unknown as SandboxContext;

const at = new Date('2026-11-28T02:00:00Z');
const row = (r: Partial<LedgerRow> & Pick<LedgerRow, 'kind' | 'outTradeNo' | 'amountFen'>): LedgerRow => ({
  at,
  createdAt: at,
  providerTradeNo: `T${r.outTradeNo}`,
  subject: '黄金会员·月度',
  buyer: 'buyer',
  ...r,
});
const ledger: LedgerRow[] = [
  row({ kind: 'payment', outTradeNo: 'MP1', amountFen: 1990 }),
  row({ kind: 'payment', outTradeNo: 'MP2', amountFen: 1 }),
  row({ kind: 'payment', outTradeNo: 'MP3', amountFen: 29_900 }),
  row({ kind: 'refund', outTradeNo: 'MP3', outRefundNo: 'RF3', refundId: 'W3', amountFen: 1990, refundStatus: 'SUCCESS' }),
];

describe('bill fees from the sandbox bill generator', () => {
  it("reads WeChat Pay's 手续费 to the 0.00001 yuan, never rounded to the fen, and its total agrees with the bill's", () => {
    const file = wechatBillFile(ctx, ledger);
    const bill = parseWechatBill(file, createHash('sha1').update(file).digest('hex'), '2026-11-28');
    expect(bill.rows.map((r) => [r.kind, r.paymentNo, r.amountFen, r.fee && feeToYuan(r.fee)])).toEqual([
      ['payment', 'MP1', 1990, '0.11940'], // 11.94 fen: rounding to 12 fen would add 0.06 fen
      ['payment', 'MP2', 1, '0.00006'], // 0.006 fen: rounding to the fen would make it 0
      ['payment', 'MP3', 29_900, '1.79400'],
      ['refund', 'MP3', 1990, '-0.11940'], // given back with the refund
    ]);
    expect(bill.rows.map((r) => r.fee)).toEqual([
      { milliFen: 11_940, decimals: 5 },
      { milliFen: 6, decimals: 5 },
      { milliFen: 179_400, decimals: 5 },
      { milliFen: -11_940, decimals: 5 },
    ]);
    // The summary line's 手续费总金额 (the provider's own total) is the exact sum of the lines.
    const summary = file
      .toString('utf8')
      .trimEnd()
      .split('\r\n')
      .at(-1)!
      .split(',')
      .map((c) => c.replace(/^`/, ''));
    const total = billFee(summary[4])!;
    expect(bill.rows.reduce((s, r) => s + r.fee!.milliFen, 0)).toBe(total.milliFen);
  });

  it("reads Alipay's 服务费 (two decimals, written as the balance moved) as charged on a trade and given back on a refund", () => {
    const bill = parseAlipayBill(alipayBillZip(ctx, '2026-11-28', ledger, at), '2026-11-28');
    expect(bill.rows.map((r) => [r.kind, r.paymentNo, r.refundNo, r.amountFen, r.fee])).toEqual([
      ['payment', 'MP1', null, 1990, { milliFen: 12_000, decimals: 2 }],
      ['payment', 'MP2', null, 1, { milliFen: 0, decimals: 2 }],
      ['payment', 'MP3', null, 29_900, { milliFen: 179_000, decimals: 2 }],
      ['refund', 'MP3', 'RF3', 1990, { milliFen: -12_000, decimals: 2 }],
    ]);
    expect(bill.rows.map((r) => feeToYuan(r.fee!))).toEqual(['0.12', '0.00', '1.79', '-0.12']);
  });
});
