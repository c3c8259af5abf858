import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BillRejected } from '../../provider-bill';
import { parseWechatBill } from './wechat-pay.bill';

const fixture = (name: string) => readFileSync(join(__dirname, '../../../../test/fixtures/bills', name));
const sha1Of = (name: string) => fixture(`${name}.sha1`).toString().trim();

describe('WeChat Pay trade bill', () => {
  it('reads payments and refunds by header name, amounts in fen without floating point', () => {
    const bill = parseWechatBill(fixture('wechat-tradebill-all.csv'), sha1Of('wechat-tradebill-all.csv'), '2026-11-28');
    expect(bill.sha1).toBe(sha1Of('wechat-tradebill-all.csv'));
    expect(bill.rows).toEqual([
      {
        kind: 'payment',
        paymentNo: 'MPFIXTUREWX0001',
        refundNo: null,
        providerTradeNo: '4200002026112800000000000001',
        amountFen: 1990,
        status: 'SUCCESS',
        fee: { milliFen: 12_000, decimals: 5 },
      },
      {
        kind: 'payment',
        paymentNo: 'MPFIXTUREWX0002',
        refundNo: null,
        providerTradeNo: '4200002026112800000000000002',
        amountFen: 29,
        status: 'SUCCESS',
        fee: { milliFen: 0, decimals: 5 },
      },
      {
        kind: 'refund',
        paymentNo: 'MPFIXTUREWX0009',
        refundNo: 'RFFIXTUREWX0009',
        providerTradeNo: '4200002026112700000000000009',
        amountFen: 2990,
        status: 'SUCCESS',
        fee: { milliFen: -18_000, decimals: 5 },
      },
    ]);
  });

  it('reads 手续费 to the 0.00001 yuan, exactly, and refuses a fee that is not an amount', () => {
    const text = fixture('wechat-tradebill-all.csv').toString('utf8');
    // A fee with all five decimals in use: 0.6 % of 19.90 is 0.11940 yuan, 11.94 fen.
    const fine = Buffer.from(text.replace('`0.12000', '`0.11940'), 'utf8');
    const bill = parseWechatBill(fine, createHash('sha1').update(fine).digest('hex'), '2026-11-28');
    expect(bill.rows[0].fee).toEqual({ milliFen: 11_940, decimals: 5 });
    const bad = Buffer.from(text.replace('`0.12000', '`0.12x'), 'utf8');
    expect(() => parseWechatBill(bad, createHash('sha1').update(bad).digest('hex'), 'd')).toThrow(
      expect.objectContaining({ reason: 'MALFORMED_BILL', message: expect.stringContaining('手续费') }),
    );
  });

  it('reads a bill with no detail rows as an empty day', () => {
    const bill = parseWechatBill(fixture('wechat-tradebill-no-rows.csv'), sha1Of('wechat-tradebill-no-rows.csv'), '2026-11-28');
    expect(bill.rows).toEqual([]);
  });

  it('refuses a bill whose SHA1 differs, before reading it', () => {
    const bytes = Buffer.from(fixture('wechat-tradebill-all.csv'));
    bytes[bytes.indexOf('19.90')] = '9'.charCodeAt(0); // 99.90: one byte changed in transit
    expect(() => parseWechatBill(bytes, sha1Of('wechat-tradebill-all.csv'), '2026-11-28')).toThrow(
      expect.objectContaining({ reason: 'HASH_MISMATCH' }),
    );
  });

  it('refuses a file that lost its BOM or its summary', () => {
    const noBom = fixture('wechat-tradebill-all.csv').subarray(3);
    expect(() => parseWechatBill(noBom, createHash('sha1').update(noBom).digest('hex'), 'd')).toThrow(BillRejected);
    const text = fixture('wechat-tradebill-all.csv').toString('utf8');
    const cut = Buffer.from(text.slice(0, text.indexOf('总交易单数')), 'utf8');
    const cutSha1 = createHash('sha1').update(cut).digest('hex');
    expect(() => parseWechatBill(cut, cutSha1, 'd')).toThrow(expect.objectContaining({ reason: 'MALFORMED_BILL' }));
  });
});
