import { beijingToDate, dateToBeijing, toPaymentEvent, toRefundEvent } from './alipay.mapper';

describe('Alipay mapper', () => {
  it('maps a paid trade: fen from the yuan string, the Beijing payment time as an instant, the trade number', () => {
    const fields = {
      trade_status: 'TRADE_SUCCESS',
      trade_no: '2026112922001400000000000001',
      total_amount: '19.90',
      gmt_payment: '2026-11-29 16:05:07',
    };
    expect(toPaymentEvent(fields, 'MP1', 'N1')).toEqual({
      provider: 'alipay',
      paymentNo: 'MP1',
      outcome: 'paid',
      tradeState: 'TRADE_SUCCESS',
      providerTradeNo: '2026112922001400000000000001',
      amountFen: 1990,
      paidAt: new Date('2026-11-29T08:05:07Z'),
      payload: fields,
      eventId: 'N1',
    });
  });

  it.each([
    ['TRADE_FINISHED', 'paid'],
    ['TRADE_CLOSED', 'closed'],
    ['WAIT_BUYER_PAY', 'pending'],
    ['SOMETHING_NEW', 'pending'],
  ])('reads trade_status %s as %s', (status, outcome) => {
    expect(toPaymentEvent({ trade_status: status, total_amount: '0.01' }, 'MP1').outcome).toBe(outcome);
  });

  it('takes send_pay_date when a query answer has no gmt_payment, and no time for a trade that is not paid', () => {
    expect(toPaymentEvent({ trade_status: 'TRADE_SUCCESS', send_pay_date: '2026-01-01 00:00:00' }, 'MP1').paidAt).toEqual(
      new Date('2025-12-31T16:00:00Z'),
    );
    expect(toPaymentEvent({ trade_status: 'WAIT_BUYER_PAY', gmt_payment: '2026-01-01 00:00:00' }, 'MP1').paidAt).toBeNull();
  });

  it('leaves an amount it cannot read as null (never a guess), and no trade number as null', () => {
    for (const total_amount of ['19.9.0', '1e3', '-1.00', '19.999', 19.9]) {
      expect(toPaymentEvent({ trade_status: 'TRADE_SUCCESS', total_amount }, 'MP1').amountFen).toBeNull();
    }
    expect(toPaymentEvent({ trade_status: 'TRADE_SUCCESS', trade_no: '' }, 'MP1').providerTradeNo).toBeNull();
  });

  it('maps a refund: success carries its time, anything else none', () => {
    const answer = { code: '10000', trade_no: 'T1', fund_change: 'Y' };
    const done = toRefundEvent({ refundNo: 'RF1', paymentNo: 'MP1' }, 'success', 'Y', answer, 700, '2026-11-29 16:10:00');
    expect(done).toMatchObject({
      provider: 'alipay',
      refundNo: 'RF1',
      paymentNo: 'MP1',
      outcome: 'success',
      providerRefundId: 'T1',
      amountFen: 700,
    });
    expect(done.succeededAt).toEqual(new Date('2026-11-29T08:10:00Z'));
    expect(toRefundEvent({ refundNo: 'RF1', paymentNo: 'MP1' }, 'processing', 'N', answer, null).succeededAt).toBeNull();
  });

  it('reads and writes Alipay times in Beijing time, refusing any other shape', () => {
    expect(beijingToDate('2026-11-29 00:30:00')).toEqual(new Date('2026-11-28T16:30:00Z'));
    expect(dateToBeijing(new Date('2026-11-28T16:30:00Z'))).toBe('2026-11-29 00:30:00');
    for (const text of ['2026-11-29T00:30:00', '2026-11-29 00:30', '29/11/2026 00:30:00', '']) expect(beijingToDate(text)).toBeNull();
  });
});
