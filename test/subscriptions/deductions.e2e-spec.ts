// Deductions under a contract, end to end through the sandbox: payments' deduction path (an attempt per
// try, the one settle path, failures recorded with their reason, unknown answers left to the query) and
// SubscriptionsService.chargeFirstPeriod, which the Alipay signing flow calls once dut_user_sign arrives.
import { AgreementDeductions } from '../../src/payments/agreement-deductions.service';
import { SubscriptionsService } from '../../src/subscriptions/subscriptions.service';
import { activeContract, until } from '../support/contracts';
import { useApp } from '../support/lifecycle';
import { createOrder } from '../support/orders';
import { providerEnv, sandboxCall } from '../support/sandbox';

describe('deductions under a contract settle through the one settle path', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  let subs: SubscriptionsService;
  beforeAll(() => {
    subs = t.app.get(SubscriptionsService);
  });
  afterEach(() => sandboxCall(sb, 'DELETE', '/sandbox/faults'));

  const orderRow = async (orderNo: string) => (await t.db.query('SELECT * FROM orders WHERE order_no = $1', [orderNo])).rows[0];
  const attempts = async (orderId: string) =>
    (await t.db.query('SELECT * FROM payment_records WHERE order_id = $1 AND contract_id IS NOT NULL ORDER BY created_at', [orderId])).rows;
  const grants = async (orderId: string) =>
    Number((await t.db.query('SELECT count(*) FROM membership_grants WHERE order_id = $1', [orderId])).rows[0].count);
  const paidEvents = async (orderId: string) =>
    Number((await t.db.query(`SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'order.paid'`, [orderId])).rows[0].count);

  it('Alipay first period: chargeFirstPeriod pays the order once (10000 is paid), a second call asks for nothing', async () => {
    const contract = await activeContract(t.app, t.db, sb, 'ded-a1', 'alipay');
    const order = await orderRow((await createOrder(t, 'ded-a1', { payment_method: 'alipay' })).order_no);
    expect(order.amount).toBe(1990);

    const done = await subs.chargeFirstPeriod(contract.contract_no, order.id);
    // Alipay answers 10000 and sends its notification of the same trade at once: whichever arrives first
    // settles the order, the other finds it settled (`duplicate`), in either order.
    expect(done).toMatchObject({ outcome: 'paid', applied: { result: expect.stringMatching(/^(settled|duplicate)$/) } });
    const [attempt] = await attempts(order.id);
    // Counted once both have arrived: the notification answered by us (as settled or as a duplicate).
    await until('Alipay notification of the deduction answered', async () => {
      const view = await sandboxCall(sb, 'GET', `/sandbox/trades/${attempt.payment_no}?provider=alipay`);
      return ((view.body.notifications ?? []) as { delivered: boolean }[]).some((n) => n.delivered);
    });
    expect((await orderRow(order.order_no)).status).toBe('paid');
    expect(await attempts(order.id)).toEqual([
      expect.objectContaining({ status: 'success', contract_id: contract.provider_contract_id, amount: 1990 }),
    ]);
    expect(await grants(order.id)).toBe(1);
    expect(await paidEvents(order.id)).toBe(1);

    // Called again (a repeated dut_user_sign, a retry): the order is paid, nothing is asked for.
    expect(await subs.chargeFirstPeriod(contract.contract_no, order.id)).toEqual({ outcome: 'busy' });
    expect(await attempts(order.id)).toHaveLength(1);
  });

  it('WeChat Pay: the deduction is accepted, its callback settles it; a storm of duplicate callbacks changes nothing', async () => {
    const contract = await activeContract(t.app, t.db, sb, 'ded-w1', 'wechat');
    const order = await orderRow((await createOrder(t, 'ded-w1', { payment_method: 'wechat' })).order_no);

    const done = await subs.chargeFirstPeriod(contract.contract_no, order.id);
    expect(done).toMatchObject({ outcome: 'pending' });
    await until('the order paid by the deduction callback', async () => (await orderRow(order.order_no)).status === 'paid');
    const [attempt] = await attempts(order.id);
    expect(attempt.status).toBe('success');

    const resent = await sandboxCall(sb, 'POST', '/sandbox/contracts/resend', {
      out_trade_no: attempt.payment_no,
      copies: 20,
      concurrent: true,
    });
    expect(resent.status).toBe(200);
    // Each copy is answered (acknowledged as a duplicate); still one payment, one grant, one order.paid.
    await until('the resent callbacks answered', async () => {
      const view = await sandboxCall(sb, 'GET', `/sandbox/contracts/${contract.provider_contract_id}`);
      return JSON.stringify(view.body).split('"delivered":true').length > 1;
    });
    expect(await grants(order.id)).toBe(1);
    expect(await paidEvents(order.id)).toBe(1);
    expect((await attempts(order.id)).map((a) => a.status)).toEqual(['success']);
  });

  it('declined for funds: the attempt fails with the provider reason (WeChat by callback, Alipay in the answer); a new try takes a new number', async () => {
    const wx = await activeContract(t.app, t.db, sb, 'ded-w2', 'wechat');
    const wxOrder = await orderRow((await createOrder(t, 'ded-w2', { payment_method: 'wechat' })).order_no);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'deduct', mode: 'declined', times: 1 });
    expect(await subs.chargeFirstPeriod(wx.contract_no, wxOrder.id)).toMatchObject({ outcome: 'pending' });
    const failed = await until('the WeChat deduction failed by callback', async () => {
      const [a] = await attempts(wxOrder.id);
      return a?.status === 'failed' ? a : null;
    });
    expect(failed.trade_state).toBe('NOTENOUGH');
    expect((await orderRow(wxOrder.order_no)).status).toBe('pending');

    const ali = await activeContract(t.app, t.db, sb, 'ded-a2', 'alipay');
    const aliOrder = await orderRow((await createOrder(t, 'ded-a2', { payment_method: 'alipay' })).order_no);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'deduct', mode: 'declined', times: 1 });
    expect(await subs.chargeFirstPeriod(ali.contract_no, aliOrder.id)).toMatchObject({
      outcome: 'failed',
      reason: 'ACQ.BUYER_BALANCE_NOT_ENOUGH',
      contractEnded: false,
    });
    // The next try is a new payment number, and pays.
    const again = await subs.chargeFirstPeriod(ali.contract_no, aliOrder.id);
    expect(again).toMatchObject({ outcome: 'paid' });
    const tries = await attempts(aliOrder.id);
    expect(tries.map((a) => a.status)).toEqual(['failed', 'success']);
    expect(new Set(tries.map((a) => a.payment_no)).size).toBe(2);
  });

  it('SYSTEMERROR after the charge: left pending (never sent again), the query settles it; a query racing the callback settles once', async () => {
    const contract = await activeContract(t.app, t.db, sb, 'ded-w3', 'wechat');
    const order = await orderRow((await createOrder(t, 'ded-w3', { payment_method: 'wechat' })).order_no);
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'deduct', mode: 'system-error-after-commit', times: 1 });
    const done = await subs.chargeFirstPeriod(contract.contract_no, order.id);
    expect(done).toMatchObject({ outcome: 'unknown' });
    // A second call while it is in flight asks for nothing.
    // (Its callback may be settling it at this very moment: the order's attempts are locked, and seen paid.)
    expect(await subs.chargeFirstPeriod(contract.contract_no, order.id)).toEqual({ outcome: 'busy' });
    const [attempt] = await attempts(order.id);
    const deductions = t.app.get(AgreementDeductions);
    const [a, b] = await Promise.all([deductions.query('wechat', attempt.payment_no), deductions.query('wechat', attempt.payment_no)]);
    expect([a.outcome, b.outcome]).toEqual(expect.arrayContaining(['paid']));
    await until('paid', async () => (await orderRow(order.order_no)).status === 'paid');
    expect(await grants(order.id)).toBe(1);
    expect(await paidEvents(order.id)).toBe(1);
  });

  it('refuses a contract that is not active, or an order of someone else', async () => {
    const contract = await activeContract(t.app, t.db, sb, 'ded-a4', 'alipay');
    const other = await orderRow((await createOrder(t, 'ded-x4', { payment_method: 'alipay' })).order_no);
    await expect(subs.chargeFirstPeriod(contract.contract_no, other.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(subs.chargeFirstPeriod('AR000NOSUCH', other.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await attempts(other.id)).toHaveLength(0);
  });
});
