import { useApp } from '../support/lifecycle';
import { createOrder } from '../support/orders';
import { adminGet, orderRow, paidOrder, refundRow, requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { connectClient } from '../support/ws-client';

/** Refunds over HTTP: the support API, both providers through their SDKs and the sandbox, real PostgreSQL. */
describe('refunds', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '1000' }), { sandbox: true });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  it('answers 401 without a token and 403 FORBIDDEN to a member, on every admin route', async () => {
    const order = await paidOrder(t, sb, 'rf-guard');
    const member = { Authorization: `Bearer ${t.token('rf-guard')}` };
    for (const [method, path] of [
      ['post', `/api/v1/admin/orders/${order.order_no}/refunds`],
      ['get', `/api/v1/admin/orders/${order.order_no}/refunds`],
      ['get', `/api/v1/admin/orders/${order.order_no}`],
      ['get', '/api/v1/admin/orders?user_id=rf-guard'],
      ['get', '/api/v1/admin/refunds'],
    ] as const) {
      const anonymous = await t.http[method](path).send({ reason: 'x' });
      expect([path, anonymous.status, anonymous.body.code]).toEqual([path, 401, 'UNAUTHENTICATED']);
      const forbidden = await t.http[method](path).set(member).send({ reason: 'x' });
      expect([path, forbidden.status, forbidden.body.code]).toEqual([path, 403, 'FORBIDDEN']);
    }
    expect((await orderRow(t, order.order_no)).status).toBe('paid');
    const { rows } = await t.db.query('SELECT 1 FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1', [order.order_no]);
    expect(rows).toHaveLength(0);
  });

  it('refunds a WeChat Pay order in full: processing, then the REFUND.SUCCESS notification marks it refunded', async () => {
    const order = await paidOrder(t, sb, 'rf-wx-full');
    const res = await requestRefund(t, order.order_no, { reason: 'customer asked' }).expect(202);
    expect(res.body).toMatchObject({
      order_no: order.order_no,
      amount: order.amount,
      reason: 'customer asked',
      requested_by: 'admin-1',
      kind: 'support',
    });
    expect(['processing', 'success']).toContain(res.body.status);
    const row = await refundRow(t, res.body.refund_no);
    expect(row).toMatchObject({ status: 'success', amount: order.amount, provider_calls: 1 });
    expect(row.provider_refund_id).toMatch(/^50\d+$/);
    const at = await sandboxCall(sb, 'GET', `/sandbox/refunds/${res.body.refund_no}`);
    expect(at.body).toMatchObject({
      status: 'SUCCESS',
      out_trade_no: row.payment_no,
      amount: { refund: order.amount, total: order.amount },
    });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'refunded', refunded_amount: order.amount });
    const mine = await t.http
      .get(`/api/v1/payment/orders/${order.order_no}`)
      .set('Authorization', `Bearer ${t.token('rf-wx-full')}`)
      .expect(200);
    expect(mine.body).toMatchObject({ status: 'refunded', refunded_amount: order.amount });
    const { rows: events } = await t.db.query(
      `SELECT e.payload FROM order_events e JOIN orders o ON o.id = e.order_id WHERE o.order_no = $1 AND e.type = 'order.refunded'`,
      [order.order_no],
    );
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({
      order_no: order.order_no,
      amount: order.amount,
      refunded_total: order.amount,
      status: 'refunded',
    });
    expect(events[0].payload).toHaveProperty('membership');
    // Nothing is left: a second refund is refused before any provider call.
    const again = await requestRefund(t, order.order_no, { reason: 'again' }).expect(409);
    expect(again.body.code).toBe('REFUND_EXCEEDS_PAID');
  });

  it('refunds an Alipay order in two parts (yuan at the boundary): partially_refunded, then refunded', async () => {
    const order = await paidOrder(t, sb, 'rf-ali-part', 'alipay');
    const app = await connectClient(t.url, { token: t.token('rf-ali-part') });
    const first = await requestRefund(t, order.order_no, { amount: 999, reason: 'partial' }).expect(202);
    expect(first.body).toMatchObject({ status: 'success', amount: 999 });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'partially_refunded', refunded_amount: 999 });
    const mine = await t.http
      .get('/api/v1/payment/orders')
      .set('Authorization', `Bearer ${t.token('rf-ali-part')}`)
      .expect(200);
    expect(mine.body.data[0]).toMatchObject({ order_no: order.order_no, status: 'partially_refunded', refunded_amount: 999 });
    const at = await sandboxCall(sb, 'GET', `/sandbox/refunds/${first.body.refund_no}`);
    expect(at.body).toMatchObject({ provider: 'alipay', refund_fen: 999, status: 'success' });
    // The member's app hears it; a partial refund keeps the access.
    const heard = await app.waitFor((r) => r.event === 'order.refunded' && r.message.order_no === order.order_no);
    expect(heard.message).toMatchObject({ type: 'order.refunded', amount: 999, refunded_total: 999, status: 'partially_refunded' });
    expect((heard.message.membership as any).periods.length).toBeGreaterThan(0);

    const tooMuch = await requestRefund(t, order.order_no, { amount: order.amount - 999 + 1, reason: 'too much' }).expect(409);
    expect(tooMuch.body.code).toBe('REFUND_EXCEEDS_PAID');
    for (const amount of [0, -5, 1.5]) {
      const bad = await requestRefund(t, order.order_no, { amount, reason: 'bad' }).expect(409);
      expect(bad.body.code).toBe('REFUND_EXCEEDS_PAID');
    }
    const noReason = await requestRefund(t, order.order_no, { amount: 1 }).expect(400);
    expect(noReason.body.code).toBe('VALIDATION_FAILED');

    const rest = await requestRefund(t, order.order_no, { reason: 'the rest' }).expect(202);
    expect(rest.body).toMatchObject({ status: 'success', amount: order.amount - 999 });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'refunded', refunded_amount: order.amount });
    const full = await app.waitFor((r) => r.event === 'order.refunded' && r.message.status === 'refunded');
    expect(full.message).toMatchObject({
      order_no: order.order_no,
      amount: order.amount - 999,
      refunded_total: order.amount,
      membership: { level: null, expires_at: null, periods: [] },
    });
    app.close();
    const trade = await sandboxCall(sb, 'GET', `/sandbox/trades/${(await refundRow(t, rest.body.refund_no)).payment_no}`);
    expect(trade.body.state).toBe('TRADE_CLOSED'); // fully refunded at Alipay
    // Should Alipay then notify the closed trade, the payment callback takes it and changes nothing.
    const closedNote = await sandboxCall(sb, 'POST', '/sandbox/pay', {
      out_trade_no: trade.body.out_trade_no,
      provider: 'alipay',
      pay: false,
    });
    expect(closedNote.body).toMatchObject({ trade_state: 'TRADE_CLOSED', delivered: true });
    expect(await orderRow(t, order.order_no)).toMatchObject({ status: 'refunded', refunded_amount: order.amount });
    const list = await adminGet(t, `/api/v1/admin/orders/${order.order_no}/refunds`).expect(200);
    expect(list.body.data.map((r: any) => [r.amount, r.status])).toEqual([
      [999, 'success'],
      [order.amount - 999, 'success'],
    ]);
  });

  it("answers a refused refund with the provider's words, records it failed, and frees its amount", async () => {
    const order = await paidOrder(t, sb, 'rf-refused', 'alipay');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'refund', mode: 'balance-not-enough', times: 1 });
    const refused = await requestRefund(t, order.order_no, { reason: 'balance' }).expect(409);
    expect(refused.body.code).toBe('REFUND_REFUSED');
    expect(refused.body.message).toContain('SELLER_BALANCE_NOT_ENOUGH');
    const {
      rows: [failed],
    } = await t.db.query(`SELECT status, failure_reason FROM refunds WHERE reason = 'balance'`);
    expect(failed.status).toBe('failed');
    expect(failed.failure_reason).toContain('卖家余额不足');
    expect((await orderRow(t, order.order_no)).status).toBe('paid');
    // The window is over at WeChat Pay too: refused with its words.
    const wx = await paidOrder(t, sb, 'rf-refused');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-window-over', times: 1 });
    const late = await requestRefund(t, wx.order_no, { reason: 'too late' }).expect(409);
    expect(late.body).toMatchObject({ code: 'REFUND_REFUSED' });
    expect(late.body.message).toContain('订单已超过退款期限');
    // Nothing was held: the whole amount can still be refunded.
    const ok = await requestRefund(t, order.order_no, { reason: 'balance topped up' }).expect(202);
    expect(ok.body.status).toBe('success');
  });

  it('refuses bad requests with a clear 4xx and changes nothing', async () => {
    const pending = await createOrder(t, 'rf-bad');
    const paid = await paidOrder(t, sb, 'rf-bad', 'alipay');
    const cases: [string, Record<string, unknown>, number, string][] = [
      [pending.order_no, { reason: 'not paid' }, 409, 'ORDER_NOT_REFUNDABLE'],
      ['MO00000000000000NOSUCHORDER', { reason: 'unknown' }, 404, 'ORDER_NOT_FOUND'],
      ['..%2F..', { reason: 'odd' }, 404, 'ORDER_NOT_FOUND'],
      [paid.order_no, { reason: '   ' }, 400, 'VALIDATION_FAILED'],
      [paid.order_no, { reason: 'x'.repeat(257) }, 400, 'VALIDATION_FAILED'],
      [paid.order_no, { reason: 'str', amount: '100' }, 400, 'VALIDATION_FAILED'],
      // Only an absent amount means "all that is left": null is not a way to say it.
      [paid.order_no, { reason: 'null', amount: null }, 400, 'VALIDATION_FAILED'],
      [paid.order_no, { reason: 'big', amount: 1e20 }, 409, 'REFUND_EXCEEDS_PAID'],
      [paid.order_no, { reason: 'extra', amount: 1, user_id: 'x' }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [orderNo, body, status, code] of cases) {
      const res = await requestRefund(t, orderNo, body);
      expect([orderNo, body, res.status, res.body.code]).toEqual([orderNo, body, status, code]);
    }
    const { rows } = await t.db.query(`SELECT 1 FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.user_id = 'rf-bad'`);
    expect(rows).toHaveLength(0);
    expect(await orderRow(t, paid.order_no)).toMatchObject({ status: 'paid', refunded_amount: 0 });
  });

  it('replays a refund for the same Idempotency-Key and refuses the key with another body', async () => {
    const order = await paidOrder(t, sb, 'rf-idem', 'alipay');
    const first = await requestRefund(t, order.order_no, { amount: 100, reason: 'idem' }, { 'Idempotency-Key': 'refund-key-1' }).expect(
      202,
    );
    const replay = await requestRefund(t, order.order_no, { amount: 100, reason: 'idem' }, { 'Idempotency-Key': 'refund-key-1' }).expect(
      202,
    );
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toEqual(first.body);
    const reused = await requestRefund(t, order.order_no, { amount: 200, reason: 'idem' }, { 'Idempotency-Key': 'refund-key-1' }).expect(
      409,
    );
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await orderRow(t, order.order_no)).refunded_amount).toBe(100);
  });

  it('never refunds more than was paid when refunds race: one wins, the others are refused before any provider call', async () => {
    for (const method of ['wechat', 'alipay'] as const) {
      const order = await paidOrder(t, sb, `rf-race-${method}`, method);
      const half = Math.ceil(order.amount / 2) + 1; // two of these do not fit
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => requestRefund(t, order.order_no, { amount: i % 2 ? half : order.amount, reason: `race ${i}` })),
      );
      const won = answers.filter((a) => a.status === 202);
      const lost = answers.filter((a) => a.status === 409);
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(5);
      for (const a of lost) expect(a.body.code).toBe('REFUND_EXCEEDS_PAID');
      const { rows } = await t.db.query(
        `SELECT r.refund_no, r.amount FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`,
        [order.order_no],
      );
      expect(rows).toHaveLength(1); // the refused ones never reached the provider: no row, no refund_no sent
      await refundRow(t, rows[0].refund_no);
      const row = await orderRow(t, order.order_no);
      expect(row.refunded_amount).toBe(rows[0].amount);
    }
  });

  it('lets exactly as many concurrent partial refunds through as the amount holds', async () => {
    const order = await paidOrder(t, sb, 'rf-race-many', 'alipay');
    const each = 200;
    const fits = Math.floor(order.amount / each);
    const answers = await Promise.all(
      Array.from({ length: fits + 4 }, (_, i) => requestRefund(t, order.order_no, { amount: each, reason: `slice ${i}` })),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(fits);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.code)).toEqual(Array(4).fill('REFUND_EXCEEDS_PAID'));
    const row = await orderRow(t, order.order_no);
    expect(row).toMatchObject({ status: 'partially_refunded', refunded_amount: fits * each });
    const rest = await requestRefund(t, order.order_no, { reason: 'the rest' }).expect(202);
    expect(rest.body.amount).toBe(order.amount - fits * each);
    expect((await orderRow(t, order.order_no)).status).toBe('refunded');
  });

  it('the database itself refuses refunds beyond what the attempt was paid', async () => {
    const order = await paidOrder(t, sb, 'rf-db-guard', 'alipay');
    const row = await orderRow(t, order.order_no);
    const insert = (no: string, amount: number) =>
      t.db.query(
        `INSERT INTO refunds (refund_no, order_id, payment_no, payment_method, amount, reason, requested_by) VALUES ($1, $2, $3, 'alipay', $4, 'sql', 'test')`,
        [no, row.id, row.payment_no, amount],
      );
    await insert('RFSQLGUARD1', order.amount - 1);
    await expect(insert('RFSQLGUARD2', 2)).rejects.toThrow(/more than the \d+ fen paid/);
    await t.db.query(`UPDATE refunds SET status = 'failed' WHERE refund_no = 'RFSQLGUARD1'`);
    await insert('RFSQLGUARD3', order.amount);
    await t.db.query(`UPDATE refunds SET status = 'failed' WHERE refund_no = 'RFSQLGUARD3'`);
  });
});
