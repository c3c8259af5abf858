// The renewal job's signing sweep, end to end through the sandbox: a signing whose notification never
// came (WeChat Pay's ADD callback, Alipay's dut_user_sign) is confirmed by querying the provider and
// activated through the notification's own path (with Alipay's first period charged once, also when the
// late notification races the sweep); a contract the provider does not know, whose order is over, is
// released; an Alipay contract activated without its first charge (the process stopped in between) is
// charged once, and the renewal job never starts a renewal in place of that first period.
import { ContractsRepository } from '../../src/subscriptions/contracts.repository';
import { RenewalJob } from '../../src/subscriptions/renewal.job';
import type { RenewalTally } from '../../src/subscriptions/renewals.service';
import { SubscriptionsService } from '../../src/subscriptions/subscriptions.service';
import { until } from '../support/contracts';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

const MINUTE = 60_000;

describe('the renewal job sweeps signings that were never confirmed', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });

  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });
  const create = (user: string, method: 'wechat' | 'alipay') =>
    t.http
      .post('/api/v1/payment/create-order')
      .set(auth(user))
      .send({ product_type: 'membership', product_id: 1, payment_method: method, auto_renew: true });
  /** One pass of the job as of `minutes` from now: past the few minutes a signing is given to be notified. */
  const sweep = async (minutes = 6) =>
    (await t.app.get(RenewalJob).run(new Date(Date.now() + minutes * MINUTE))) as unknown as RenewalTally;
  const contractOf = async (orderNo: string) =>
    (await t.db.query(`SELECT c.* FROM contracts c JOIN orders o ON o.id = c.first_order_id WHERE o.order_no = $1`, [orderNo])).rows[0];
  const orderRow = async (orderNo: string) => (await t.db.query('SELECT * FROM orders WHERE order_no = $1', [orderNo])).rows[0];
  const deductions = async (orderId: string) =>
    (await t.db.query('SELECT status FROM payment_records WHERE order_id = $1 AND contract_id IS NOT NULL', [orderId])).rows.map(
      (r: { status: string }) => r.status,
    );
  const grants = async (userId: string) =>
    Number((await t.db.query('SELECT count(*) FROM membership_grants WHERE user_id = $1', [userId])).rows[0].count);
  const ordersOf = async (userId: string) =>
    Number((await t.db.query('SELECT count(*) FROM orders WHERE user_id = $1', [userId])).rows[0].count);
  const paidEvents = async (orderId: string) =>
    Number((await t.db.query(`SELECT count(*) FROM order_events WHERE order_id = $1 AND type = 'order.paid'`, [orderId])).rows[0].count);

  it('WeChat Pay: paid, the ADD callback lost → pending (409 for another purchase) until the sweep queries and activates it once', async () => {
    const order = (await create('sw-w1', 'wechat').expect(201)).body;
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url, delivery: 'drop' });
    expect(signed.status).toBe(200);
    // Only the payment's result arrives (sent again by WeChat); the signing's never does.
    expect((await sandboxCall(sb, 'POST', '/sandbox/contracts/resend', { out_trade_no: signed.body.out_trade_no })).body.delivered).toBe(
      true,
    );
    await until('the first order paid', async () => (await orderRow(order.order_no)).status === 'paid');
    expect(await contractOf(order.order_no)).toMatchObject({ status: 'pending', provider_contract_id: null });
    expect((await create('sw-w1', 'alipay').expect(409)).body.code).toBe('AUTO_RENEW_ACTIVE');

    // Within the few minutes a signing is given, the job leaves it alone (the provider is not asked).
    expect(await sweep(0)).toMatchObject({ confirmed: 0, released: 0 });
    expect((await contractOf(order.order_no)).status).toBe('pending');

    const report = await sweep();
    expect(report).toMatchObject({ confirmed: 1, released: 0, failed: 0 });
    const active = await contractOf(order.order_no);
    expect(active).toMatchObject({ status: 'active', provider_contract_id: signed.body.contract_id });
    expect(active.signed_at).toBeInstanceOf(Date);
    // The renewal job took it from there: T is the end of the period paid, not now.
    const me = (await t.http.get('/api/v1/membership/me').set(auth('sw-w1')).expect(200)).body;
    expect(me.auto_renew).toMatchObject({ status: 'active', provider: 'wechat', next_renewal_at: me.expires_at });

    // The ADD callback arriving late after all changes nothing; another pass neither.
    const late = await t.app.get(SubscriptionsService).applyEvent({
      kind: 'signed',
      provider: 'wechat',
      contract: { contractId: signed.body.contract_id, contractNo: active.contract_no },
      planCode: 'basic_monthly',
      signedAt: new Date(),
      payload: {},
    });
    expect(late).toBe('duplicate');
    expect(await sweep()).toMatchObject({ confirmed: 0, released: 0, failed: 0 });
    expect(await grants('sw-w1')).toBe(1);
    expect(await ordersOf('sw-w1')).toBe(1);
  });

  it('Alipay: dut_user_sign lost → the sweep confirms the agreement and charges the first period once, racing the late notification', async () => {
    const order = (await create('sw-a1', 'alipay').expect(201)).body;
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url, delivery: 'drop' });
    expect(signed.status).toBe(200);
    const pending = await contractOf(order.order_no);
    expect(pending.status).toBe('pending');
    expect((await orderRow(order.order_no)).status).toBe('pending');

    // Two job runners and the notification arriving late, all at once.
    const subs = t.app.get(SubscriptionsService);
    const [a, b, late] = await Promise.all([
      sweep(),
      sweep(),
      subs.applyEvent({
        kind: 'signed',
        provider: 'alipay',
        contract: { contractId: signed.body.agreement_no, contractNo: pending.contract_no },
        signedAt: new Date(),
        payload: {},
      }),
    ]);
    expect(a.failed + b.failed).toBe(0);
    expect(a.confirmed + b.confirmed + (late === 'activated' ? 1 : 0)).toBe(1);
    await until('the first order paid', async () => (await orderRow(order.order_no)).status === 'paid');
    expect(await contractOf(order.order_no)).toMatchObject({ status: 'active', provider_contract_id: signed.body.agreement_no });
    const orderId = (await orderRow(order.order_no)).id;
    expect(await deductions(orderId)).toEqual(['success']);
    expect(await paidEvents(orderId)).toBe(1);
    expect(await grants('sw-a1')).toBe(1);

    // Later passes: no second charge, no renewal in place of the period just bought.
    await sweep();
    expect(await deductions(orderId)).toEqual(['success']);
    expect(await ordersOf('sw-a1')).toBe(1);
    const me = (await t.http.get('/api/v1/membership/me').set(auth('sw-a1')).expect(200)).body;
    expect(me.auto_renew).toMatchObject({ status: 'active', provider: 'alipay', next_renewal_at: me.expires_at });
  });

  it('WeChat Pay: signed and then unsigned by the member, neither notified → recorded ended by the provider, the period paid kept', async () => {
    const order = (await create('sw-w2', 'wechat').expect(201)).body;
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url, delivery: 'drop' });
    await sandboxCall(sb, 'POST', '/sandbox/contracts/resend', { out_trade_no: signed.body.out_trade_no });
    await until('the first order paid', async () => (await orderRow(order.order_no)).status === 'paid');
    // The member ends it inside WeChat; its DELETE callback goes nowhere we listen.
    const unsigned = await sandboxCall(sb, 'POST', '/sandbox/contracts/unsign', {
      contract_id: signed.body.contract_id,
      notify_url: 'http://127.0.0.1:9/lost',
    });
    expect(unsigned.status).toBe(200);
    expect((await contractOf(order.order_no)).status).toBe('pending');

    expect(await sweep()).toMatchObject({ confirmed: 0, released: 0, failed: 0 });
    expect(await contractOf(order.order_no)).toMatchObject({
      status: 'cancelled',
      ended_by: 'provider',
      provider_contract_id: signed.body.contract_id,
    });
    expect(await grants('sw-w2')).toBe(1);
    const me = (await t.http.get('/api/v1/membership/me').set(auth('sw-w2')).expect(200)).body;
    expect(me.periods).toHaveLength(1);
    expect(me.auto_renew).toMatchObject({ status: 'cancelled' });
  });

  it('never signed: left while its order may still be paid; released once the order is over, and the member may sign again', async () => {
    const order = (await create('sw-a2', 'alipay').expect(201)).body;
    expect(await sweep()).toMatchObject({ confirmed: 0, released: 0, failed: 0 });
    expect((await contractOf(order.order_no)).status).toBe('pending');

    // The order ended by a path that did not release its contract (the ordinary expiry releases it in the
    // same transaction): the sweep still frees the member.
    await t.db.query(`UPDATE orders SET status = 'expired' WHERE order_no = $1`, [order.order_no]);
    // (Looked at again a few minutes after the pass that left it.)
    expect(await sweep(12)).toMatchObject({ confirmed: 0, released: 1, failed: 0 });
    expect(await contractOf(order.order_no)).toMatchObject({ status: 'cancelled', ended_by: 'merchant', provider_contract_id: null });
    expect(await sweep(20)).toMatchObject({ released: 0 });
    await create('sw-a2', 'alipay').expect(201);
  });

  it('Alipay: activated, then the process stopped before the first charge → the sweep charges the first period once, no renewal in its place', async () => {
    const order = (await create('sw-a3', 'alipay').expect(201)).body;
    const signed = await sandboxCall(sb, 'POST', '/sandbox/contracts/sign', { qr: order.qr_code_url, delivery: 'drop' });
    const pending = await contractOf(order.order_no);
    // The first half of the notification's handling, and nothing after it.
    expect(await t.app.get(ContractsRepository).activate('alipay', pending.contract_no, signed.body.agreement_no, new Date())).toBeTruthy();
    const orderId = (await orderRow(order.order_no)).id;
    expect(await deductions(orderId)).toEqual([]);

    const [a, b] = await Promise.all([sweep(), sweep()]);
    expect(a.failed + b.failed).toBe(0);
    expect(a.firstPeriods + b.firstPeriods).toBe(1);
    await until('the first order paid', async () => (await orderRow(order.order_no)).status === 'paid');
    expect(await deductions(orderId)).toEqual(['success']);
    expect(await paidEvents(orderId)).toBe(1);
    expect(await grants('sw-a3')).toBe(1);

    await sweep();
    expect(await deductions(orderId)).toEqual(['success']);
    expect(await ordersOf('sw-a3')).toBe(1);
    const me = (await t.http.get('/api/v1/membership/me').set(auth('sw-a3')).expect(200)).body;
    expect(me.auto_renew).toMatchObject({ status: 'active', next_renewal_at: me.expires_at });
  });
});
