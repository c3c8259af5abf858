import type { RawNotification } from '../../payment-provider';
import { namedAlipayPaymentNo } from './alipay.notification';

const form = (body: string): RawNotification => ({ headers: {}, rawBody: Buffer.from(body) });

describe('the payment number a refused Alipay notification names', () => {
  it('is the one out_trade_no of the form, signed or not', () => {
    expect(namedAlipayPaymentNo(form('out_trade_no=MP20261129160000ABCDEFGHJKLM&sign=AAAA&trade_status=TRADE_SUCCESS'))).toBe(
      'MP20261129160000ABCDEFGHJKLM',
    );
  });

  it('is null when the form names none, names one twice, or is not a form', () => {
    expect(namedAlipayPaymentNo(form('sign=AAAA'))).toBeNull();
    expect(namedAlipayPaymentNo(form('out_trade_no=&sign=AAAA'))).toBeNull();
    expect(namedAlipayPaymentNo(form('out_trade_no=MP1&out_trade_no=MP2'))).toBeNull();
    expect(namedAlipayPaymentNo(form('{"out_trade_no":"MP1"}'))).toBeNull();
  });
});
