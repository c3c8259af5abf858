import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAlipayBill } from './alipay.bill';

const fixture = (name: string) => readFileSync(join(__dirname, '../../../../test/fixtures/bills', name));

describe('Alipay trade bill', () => {
  it('reads the GBK detail file of the ZIP: a trade and a refund with its request number, in fen', () => {
    const bill = parseAlipayBill(fixture('alipay-trade-bill.zip'), '2026-11-28');
    expect(bill.rows).toEqual([
      {
        kind: 'payment',
        paymentNo: 'MPFIXTUREALI001',
        refundNo: null,
        providerTradeNo: '2026112822001400000000000001',
        amountFen: 1990,
        status: 'TRADE_SUCCESS',
        // The bill writes the fee taken as -0.12 (what the merchant's balance moved by): charged, positive here.
        fee: { milliFen: 12_000, decimals: 2 },
      },
      {
        kind: 'refund',
        paymentNo: 'MPFIXTUREALI009',
        refundNo: 'RFFIXTUREALI009',
        providerTradeNo: '2026112722001400000000000009',
        amountFen: 2990,
        status: 'REFUND_SUCCESS',
        // 0.18 given back with the refund.
        fee: { milliFen: -18_000, decimals: 2 },
      },
    ]);
    expect(bill.sha1).toMatch(/^[0-9a-f]{40}$/);
  });

  it('reads a detail file with a header and no rows as an empty day', () => {
    expect(parseAlipayBill(fixture('alipay-trade-bill-no-rows.zip'), '2026-11-28').rows).toEqual([]);
  });

  it('refuses what is not a ZIP of the published layout', () => {
    expect(() => parseAlipayBill(Buffer.from('not a zip'), 'd')).toThrow(expect.objectContaining({ reason: 'MALFORMED_BILL' }));
  });
});
