import { EventEmitter2 } from '@nestjs/event-emitter';
import { DOUBLE_PAYMENT } from '../../src/payments/double-payment';
import { ProcessRefundsJob } from '../../src/refunds/process-refunds.job';
import { RefundsService } from '../../src/refunds/refunds.service';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox, membershipOf } from '../support/orders';
import { adminGet, orderRow, paidOrder, refundRow, requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall } from '../support/sandbox';

const MINUTE = 60_000;
const later = (minutes: number) => new Date(Date.now() + minutes * MINUTE);

/** Refunds whose answer is lost or late, their notifications, double payments and the ledger afterwards. */
describe('refunds that do not end at once', () => {
  let job: ProcessRefundsJob;
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000', PROVIDER_TIMEOUT_MS: '1500' }), {
    sandbox: true,
  });
  beforeAll(() => {
    job = t.app.get(ProcessRefundsJob);
  });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  /**
   * An order whose first QR code is paid at WeChat Pay without us being told, then refreshed: closing
   * the old code finds it paid, so the order settles with it (409 to the caller), and the new code,
   * already issued, is left pending: paying it is a double payment.
   */
  async function orderWithPendingSecondCode(user: string) {
    const order = await createOrder(t, user);
    const first = await payAtSandbox(sb, order.qr_code_url, { delivery: 'none' });
    expect(first.status).toBe(200);
    await t.http
      .post(`/api/v1/payment/orders/${order.order_no}/qr-code`)
      .set('Authorization', `Bearer ${t.token(user)}`)
      .expect(409);
    const {
      rows: [second],
    } = await t.db.query(
      `SELECT r.payment_no, r.qr_code_url FROM payment_records r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1 AND r.status = 'pending'`,
      [order.order_no],
    );
    expect(second.qr_code_url).toMatch(/^weixin:/);
    return { order, second: second as { payment_no: string; qr_code_url: string } };
  }

  it('retries a timed-out WeChat Pay refund with the same refund number, and it refunds once', async () => {
    const order = await paidOrder(t, sb, 'rc-timeout');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'hang', times: 1 });
    const res = await requestRefund(t, order.order_no, { reason: 'timeout' }).expect(202);
    expect(res.body.status).toBe('processing');
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    // The job: the provider has no such refund (the hung call never ran), so it is sent again, same number.
    await job.run(later(2));
    const row = await refundRow(t, res.body.refund_no);
    expect(row).toMatchObject({ refund_no: res.body.refund_no, status: 'success', provider_calls: 2 });
    const at = await sandboxCall(sb, 'GET', `/sandbox/refunds/${res.body.refund_no}`);
    expect(at.body.status).toBe('SUCCESS');
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'refunded', refunded_amount: order.amount });
  });

  it('finds an Alipay refund whose answer was lost by querying it, and one that succeeds only later', async () => {
    const order = await paidOrder(t, sb, 'rc-lost', 'alipay');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'refund', mode: 'system-error-after-commit', times: 1 });
    const lost = await requestRefund(t, order.order_no, { amount: 500, reason: 'lost answer' }).expect(202);
    expect(lost.body.status).toBe('processing');
    await job.run(later(2));
    expect(await refundRow(t, lost.body.refund_no)).toMatchObject({ status: 'success', provider_calls: 1 });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'partially_refunded', refunded_amount: 500 });

    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'refund', mode: 'refund-later', times: 1 });
    const slow = await requestRefund(t, order.order_no, { reason: 'the rest, slowly' }).expect(202);
    expect(slow.body.status).toBe('processing');
    await job.run(later(2)); // not there yet: no data, sent again with the same out_request_no, still pending
    expect(await refundRow(t, slow.body.refund_no, () => true)).toMatchObject({ status: 'processing', provider_calls: 2 });
    const payment = (await refundRow(t, slow.body.refund_no, () => true)).payment_no;
    await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', {
      provider: 'alipay',
      out_trade_no: payment,
      out_request_no: slow.body.refund_no,
    });
    await job.run(later(10));
    expect(await refundRow(t, slow.body.refund_no)).toMatchObject({ status: 'success', provider_calls: 2 });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'refunded', refunded_amount: order.amount });
  });

  it('two job runs at once follow each unfinished refund once (claims skip what the other holds)', async () => {
    const refundNos: string[] = [];
    for (let i = 0; i < 3; i++) {
      const order = await paidOrder(t, sb, `rc-claims-${i}`);
      await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
      refundNos.push((await requestRefund(t, order.order_no, { reason: 'claims' }).expect(202)).body.refund_no);
    }
    const [a, b] = await Promise.all([job.run(later(2)), job.run(later(2))]);
    expect(a.claimed + b.claimed).toBeGreaterThanOrEqual(3);
    const { rows } = await t.db.query(`SELECT refund_no, query_count, status, next_query_at FROM refunds WHERE refund_no = ANY($1)`, [
      refundNos,
    ]);
    for (const r of rows) {
      expect([r.refund_no, r.query_count, r.status]).toEqual([r.refund_no, 1, 'processing']);
      expect(r.next_query_at.getTime()).toBeGreaterThan(later(2).getTime()); // backed off: the next look is later
    }
    for (const no of refundNos) await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', { out_refund_no: no });
    for (const no of refundNos) expect(await refundRow(t, no)).toMatchObject({ status: 'success' });
  });

  it('applies a refund notification once: duplicates change nothing more; forged and stale ones are refused', async () => {
    const order = await paidOrder(t, sb, 'rc-notify');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    const res = await requestRefund(t, order.order_no, { reason: 'notified' }).expect(202);
    expect(res.body.status).toBe('processing');
    const url = `${t.url}/api/v1/payment/wechat/refund-callback`;
    const post = (n: { headers: Record<string, string>; body: string }) => fetch(url, { method: 'POST', headers: n.headers, body: n.body });
    for (const tamper of ['signature', 'stale-timestamp', 'wrong-key', 'unknown-serial', 'malformed-body']) {
      const { body } = await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', {
        out_refund_no: res.body.refund_no,
        delivery: 'none',
        tamper,
      });
      const answer = await post(body.notification);
      expect([tamper, answer.status]).toEqual([tamper, 400]);
    }
    // The sandbox moved it to SUCCESS; we have not believed any of those.
    expect((await refundRow(t, res.body.refund_no, () => true)).status).toBe('processing');
    const { body: genuine } = await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', {
      out_refund_no: res.body.refund_no,
      delivery: 'none',
    });
    const answers = await Promise.all([post(genuine.notification), post(genuine.notification), post(genuine.notification)]);
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204]);
    expect(await refundRow(t, res.body.refund_no, () => true)).toMatchObject({ status: 'success' });
    const { rows } = await t.db.query(
      `SELECT count(*)::int AS n FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.order_no = $1 AND e.type = 'order.refunded'`,
      [order.order_no],
    );
    expect(rows[0].n).toBe(1);
  });

  it("takes WeChat Pay's refund results at its one callback URL too: classified by the provider, applied by refunds", async () => {
    const order = await paidOrder(t, sb, 'rc-one-url');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    const res = await requestRefund(t, order.order_no, { reason: 'one url' }).expect(202);
    const { body } = await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', { out_refund_no: res.body.refund_no, delivery: 'none' });
    const answer = await fetch(`${t.url}/api/v1/payment/wechat/callback`, {
      method: 'POST',
      headers: body.notification.headers,
      body: body.notification.body,
    });
    expect(answer.status).toBe(204);
    expect(await refundRow(t, res.body.refund_no, () => true)).toMatchObject({ status: 'success' });
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/memberpay_notifications_total\{provider="wechat",outcome="accepted"\} [1-9]/);
  });

  it('shows an ABNORMAL refund to support as abnormal (not final), counted, and finishes it when WeChat Pay does', async () => {
    const order = await paidOrder(t, sb, 'rc-abnormal');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-abnormal', times: 1 });
    const res = await requestRefund(t, order.order_no, { amount: 700, reason: 'card' }).expect(202);
    expect(await refundRow(t, res.body.refund_no)).toMatchObject({ status: 'abnormal' });
    const list = await adminGet(t, '/api/v1/admin/refunds?status=abnormal').expect(200);
    expect(list.body.data.map((r: any) => r.refund_no)).toContain(res.body.refund_no);
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toMatch(/memberpay_refunds_total\{provider="wechat",status="abnormal"\} [1-9]/);
    // Abnormal still holds its money: nothing more than the rest can be refunded meanwhile.
    expect((await requestRefund(t, order.order_no, { amount: order.amount - 700 + 1, reason: 'x' }).expect(409)).body.code).toBe(
      'REFUND_EXCEEDS_PAID',
    );
    await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', { out_refund_no: res.body.refund_no, status: 'SUCCESS', delivery: 'drop' });
    await job.run(later(5));
    expect(await refundRow(t, res.body.refund_no)).toMatchObject({ status: 'success' });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'partially_refunded', refunded_amount: 700 });
  });

  it('keeps a refund abnormal when the answer to our own call (still processing) is applied after the notification', async () => {
    const order = await paidOrder(t, sb, 'rc-late-answer');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    const res = await requestRefund(t, order.order_no, { amount: 300, reason: 'late answer' }).expect(202);
    const service = t.app.get(RefundsService);
    const base = {
      provider: 'wechat' as const,
      refundNo: res.body.refund_no,
      paymentNo: null,
      providerRefundId: null,
      amountFen: null,
      succeededAt: null,
      payload: {},
    };
    expect(await service.applyEvent({ ...base, outcome: 'abnormal', providerState: 'ABNORMAL' }, 'notification')).toBe('applied');
    expect(await service.applyEvent({ ...base, outcome: 'processing', providerState: 'PROCESSING' }, 'answer')).toBe('unchanged');
    expect(await refundRow(t, res.body.refund_no, () => true)).toMatchObject({ status: 'abnormal', provider_state: 'ABNORMAL' });
  });

  it('refunds a double payment by itself, in full, and counts it; the order stays paid with its access', async () => {
    const user = 'rc-double';
    const { order, second } = await orderWithPendingSecondCode(user);
    const metricsBefore = (await t.http.get('/metrics')).text;
    await payAtSandbox(sb, second.qr_code_url);
    // Started right after the settling transaction, on the event bus: wait until it is recorded.
    let auto: { refund_no: string } | undefined;
    for (const deadline = Date.now() + 10_000; !auto && Date.now() < deadline; await new Promise((r) => setTimeout(r, 25))) {
      ({
        rows: [auto],
      } = await t.db.query(`SELECT refund_no FROM refunds WHERE payment_no = $1`, [second.payment_no]));
    }
    const refund = await refundRow(t, auto!.refund_no);
    expect(refund).toMatchObject({
      status: 'success',
      amount: order.amount,
      kind: 'duplicate_payment',
      reason: 'duplicate payment',
      requested_by: 'system',
    });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'paid', refunded_amount: 0 });
    const me = await t.http
      .get('/api/v1/membership/me')
      .set('Authorization', `Bearer ${t.token(user)}`)
      .expect(200);
    expect(me.body.active).toBe(true);
    const count = (text: string) => Number(/memberpay_double_payments_total\{provider="wechat"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(count((await t.http.get('/metrics')).text)).toBe(count(metricsBefore) + 1);
    // The job does not refund it again.
    await job.run(later(5));
    const { rows } = await t.db.query(`SELECT count(*)::int AS n FROM refunds WHERE payment_no = $1`, [second.payment_no]);
    expect(rows[0].n).toBe(1);
  });

  it('starts the refund of a double payment the process never got to (a crash after settling), from the job', async () => {
    const user = 'rc-double-lost';
    const { order, second } = await orderWithPendingSecondCode(user);
    // As if the process died right after the settling transaction: nobody hears of the double payment.
    const bus = t.app.get(EventEmitter2);
    const listeners = bus.listeners(DOUBLE_PAYMENT);
    bus.removeAllListeners(DOUBLE_PAYMENT);
    try {
      await payAtSandbox(sb, second.qr_code_url);
    } finally {
      for (const l of listeners) bus.on(DOUBLE_PAYMENT, l as (...args: unknown[]) => void);
    }
    const { rows: none } = await t.db.query(`SELECT 1 FROM refunds WHERE payment_no = $1`, [second.payment_no]);
    expect(none).toHaveLength(0);
    const report = await job.run(later(5));
    expect(report.double_payments).toBe(1);
    const {
      rows: [auto],
    } = await t.db.query(`SELECT refund_no FROM refunds WHERE payment_no = $1`, [second.payment_no]);
    expect(await refundRow(t, auto.refund_no)).toMatchObject({ status: 'success', kind: 'duplicate_payment', amount: order.amount });
    expect((await job.run(later(10))).double_payments).toBe(0);
  });

  it("refunding an upgrade in full gives back the lower level's days it converted", async () => {
    const user = 'rc-upgrade';
    const me = () => membershipOf(t, user);
    await paidOrder(t, sb, user); // basic, monthly
    const before = await me();
    const upgrade = await paidOrder(t, sb, user, 'wechat', { product_id: 4, is_upgrade: true }); // to premium
    expect((await me()).level).toBe(2);
    await requestRefund(t, upgrade.order_no, { reason: 'upgrade by mistake' }).expect(202);
    const refund = (
      await t.db.query(`SELECT r.refund_no FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`, [upgrade.order_no])
    ).rows[0];
    expect(await refundRow(t, refund.refund_no)).toMatchObject({ status: 'success' });
    const after = await me();
    expect({ level: after.level, expires_at: after.expires_at }).toEqual({ level: before.level, expires_at: before.expires_at });
    expect(after.periods.map((p: any) => [p.level, p.starts_at, p.ends_at])).toEqual(
      before.periods.map((p: any) => [p.level, p.starts_at, p.ends_at]),
    );
  });

  it('after a full refund the ledger is the one before the purchase, while a later order keeps its periods', async () => {
    const user = 'rc-ledger';
    const me = () => membershipOf(t, user);
    const a = await paidOrder(t, sb, user); // the first month
    const before = await me();
    const b = await paidOrder(t, sb, user, 'alipay'); // a second month, refunded below
    const c = await paidOrder(t, sb, user); // a third month, bought after it
    const {
      rows: [cPeriodsBefore],
    } = await t.db.query(
      `SELECT sum(EXTRACT(EPOCH FROM ends_at - starts_at))::bigint AS s FROM membership_periods p JOIN orders o ON o.id = p.order_id WHERE o.order_no = $1`,
      [c.order_no],
    );
    await requestRefund(t, b.order_no, { reason: 'ledger' }).expect(202);
    expect(await orderRow(t, b.order_no)).toMatchObject({ status: 'refunded' });
    const { rows: bPeriods } = await t.db.query(
      `SELECT 1 FROM membership_periods p JOIN orders o ON o.id = p.order_id WHERE o.order_no = $1`,
      [b.order_no],
    );
    expect(bPeriods).toHaveLength(0);
    const {
      rows: [cPeriodsAfter],
    } = await t.db.query(
      `SELECT sum(EXTRACT(EPOCH FROM ends_at - starts_at))::bigint AS s FROM membership_periods p JOIN orders o ON o.id = p.order_id WHERE o.order_no = $1`,
      [c.order_no],
    );
    expect(cPeriodsAfter.s).toEqual(cPeriodsBefore.s); // the later order keeps all its days
    const after = await me();
    // Two months remain (a and c): exactly one month more than before b was bought.
    expect(new Date(after.expires_at).getTime() - new Date(before.expires_at).getTime()).toBe(Number(cPeriodsBefore.s) * 1000);
    expect(after.level).toBe(before.level);
    // The support view shows all of it.
    const view = await adminGet(t, `/api/v1/admin/orders/${b.order_no}`).expect(200);
    expect(view.body.order).toMatchObject({ order_no: b.order_no, status: 'refunded', refunded_amount: b.amount });
    expect(view.body.attempts).toHaveLength(1);
    expect(view.body.grant.revoked_at).toEqual(expect.any(String));
    expect(view.body.periods).toEqual([]);
    expect(view.body.refunds).toHaveLength(1);
    expect(view.body.events.map((e: any) => e.type)).toEqual(['order.paid', 'order.refunded']);
    expect(view.body.events[1].payload.membership).toMatchObject({ level: after.level, expires_at: after.expires_at });
    const found = await adminGet(t, `/api/v1/admin/orders?user_id=${user}&status=refunded`).expect(200);
    expect(found.body.data.map((o: any) => o.order_no)).toEqual([b.order_no]);
    const page = await adminGet(t, `/api/v1/admin/orders?user_id=${user}&limit=2`).expect(200);
    expect(page.body).toMatchObject({ has_more: true });
    expect(page.body.data.map((o: any) => o.order_no)).toEqual([c.order_no, b.order_no]);
    const next = await adminGet(t, `/api/v1/admin/orders?user_id=${user}&limit=2&starting_after=${b.order_no}`).expect(200);
    expect(next.body).toMatchObject({ has_more: false, data: [expect.objectContaining({ order_no: a.order_no })] });
    expect((await adminGet(t, '/api/v1/admin/orders?from=yesterday').expect(400)).body.code).toBe('VALIDATION_FAILED');
  });
});
