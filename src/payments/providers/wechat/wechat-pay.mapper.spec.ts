import { toRefundEvent } from './wechat-pay.mapper';

describe('toRefundEvent', () => {
  const answer = {
    refund_id: '50000000382019052709732678859',
    out_refund_no: 'RF1',
    out_trade_no: 'MP1',
    status: 'SUCCESS',
    success_time: '2026-01-01T08:00:00+08:00',
    amount: { total: 1990, refund: 990, currency: 'CNY' },
  };

  it.each([
    ['PROCESSING', 'processing'],
    ['SUCCESS', 'success'],
    ['CLOSED', 'closed'],
    ['ABNORMAL', 'abnormal'],
  ])('maps status %s to %s', (status, outcome) => {
    expect(toRefundEvent({ ...answer, status }).outcome).toBe(outcome);
  });

  it('reads a create/query answer (`status`) and a notification (`refund_status`) alike', () => {
    const fromAnswer = toRefundEvent(answer);
    const { status: _ignored, ...rest } = answer;
    const fromNotification = toRefundEvent({ ...rest, refund_status: 'SUCCESS' }, 'EV-1');
    expect(fromAnswer).toMatchObject({
      provider: 'wechat',
      refundNo: 'RF1',
      paymentNo: 'MP1',
      outcome: 'success',
      providerState: 'SUCCESS',
      providerRefundId: answer.refund_id,
      amountFen: 990,
      succeededAt: new Date('2026-01-01T00:00:00Z'),
    });
    expect(fromNotification).toMatchObject({ ...fromAnswer, payload: expect.anything(), eventId: 'EV-1' });
  });

  it('treats an unknown status as still processing and never invents an amount or a success time', () => {
    const event = toRefundEvent({ out_refund_no: 'RF2', status: 'SOMETHING_NEW', amount: { refund: 1.5 } });
    expect(event).toMatchObject({ outcome: 'processing', amountFen: null, succeededAt: null, paymentNo: null });
  });
});
