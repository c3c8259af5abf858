import { Logger } from '@nestjs/common';
import { beijingDayOf } from '../../src/common/beijing-day';
import { ProviderRegistry } from '../../src/payments/provider-registry';
import { ReconciliationService } from '../../src/reconciliation/reconciliation.service';
import { ReconcileBillsJob } from '../../src/reconciliation/reconcile-bills.job';
import { useApp } from '../support/lifecycle';
import { invariantViolations } from '../support/invariants';
import { createOrder, payAtSandbox } from '../support/orders';
import { providerEnv, sandboxCall } from '../support/sandbox';

describe('reconciliation against the daily bills', () => {
  let service: ReconciliationService;
  const today = beijingDayOf(new Date());

  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  beforeAll(() => {
    service = t.app.get(ReconciliationService);
  });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/faults');
  });

  /** A paid order of its own user; `delivery: 'drop'` pays without ever notifying memberpay. */
  async function paidOrder(user: string, method: 'wechat' | 'alipay', delivery = 'normal') {
    const order = await createOrder(t, user, { payment_method: method });
    const paid = await payAtSandbox(sb, order.qr_code_url, { delivery });
    expect(paid.status).toBe(200);
    const {
      rows: [row],
    } = await t.db.query('SELECT payment_no FROM orders WHERE order_no = $1', [order.order_no]);
    return { orderNo: order.order_no, paymentNo: row.payment_no as string, amount: order.amount };
  }
  const orderState = async (orderNo: string) =>
    (
      await t.db.query(
        `SELECT o.status, (SELECT count(*)::int FROM membership_grants g WHERE g.order_id = o.id) AS grants,
            (SELECT count(*)::int FROM order_events e WHERE e.order_id = o.id AND e.type = 'order.paid') AS paid_events,
            (SELECT max(ends_at) FROM membership_periods m WHERE m.user_id = o.user_id) AS expires_at
     FROM orders o WHERE o.order_no = $1`,
        [orderNo],
      )
    ).rows[0];
  const items = async (provider: string) =>
    (
      await t.db.query(
        `SELECT i.reference, i.outcome, i.action, i.local_amount, i.provider_amount, (i.resolved_at IS NOT NULL) AS resolved
     FROM reconciliation_items i JOIN reconciliation_runs r ON r.id = i.run_id
     WHERE r.provider = $1 AND r.bill_date = $2 ORDER BY i.reference`,
        [provider, today],
      )
    ).rows;

  it('finds exactly the injected discrepancies, settles the dropped payment once, and a second run changes nothing', async () => {
    const matched = await paidOrder('rec-w1', 'wechat');
    const dropped = await paidOrder('rec-w2', 'wechat', 'drop');
    const differs = await paidOrder('rec-w3', 'wechat');
    const omitted = await paidOrder('rec-w4', 'wechat');
    await sandboxCall(sb, 'POST', '/sandbox/bills/tweaks', {
      provider: 'wechat',
      out_trade_no: differs.paymentNo,
      amount_fen: differs.amount + 100,
    });
    await sandboxCall(sb, 'POST', '/sandbox/bills/tweaks', { provider: 'wechat', out_trade_no: omitted.paymentNo, omit: true });
    expect((await orderState(dropped.orderNo)).status).toBe('pending');

    const warned = jest.spyOn(Logger.prototype, 'warn');
    const first = await service.reconcile('wechat', today, { force: true });
    expect(first.status).toBe('completed');
    // One alertable line per open discrepancy, none for what matched or was settled.
    const alerts = warned.mock.calls.map(([line]) => String(line)).filter((line) => line.startsWith('reconciliation discrepancy:'));
    warned.mockRestore();
    expect(alerts).toHaveLength(2);
    expect(alerts).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`provider=wechat day=${today} outcome=amount_mismatch kind=payment reference=${differs.paymentNo}`),
        expect.stringContaining(`outcome=missing_at_provider kind=payment reference=${omitted.paymentNo}`),
      ]),
    );
    const expected = [
      { reference: matched.paymentNo, outcome: 'matched', action: null, resolved: false },
      { reference: dropped.paymentNo, outcome: 'missing_locally', action: 'settled', resolved: true },
      {
        reference: differs.paymentNo,
        outcome: 'amount_mismatch',
        action: null,
        resolved: false,
        local_amount: differs.amount,
        provider_amount: differs.amount + 100,
      },
      { reference: omitted.paymentNo, outcome: 'missing_at_provider', action: null, resolved: false },
    ].sort((a, b) => a.reference.localeCompare(b.reference));
    expect(await items('wechat')).toEqual(expected.map((e) => expect.objectContaining(e)));
    if (first.status !== 'completed') return;
    expect(first.run).toMatchObject({
      matched: 1,
      missingLocally: 1,
      amountMismatch: 1,
      missingAtProvider: 1,
      statusMismatch: 0,
      openItems: 2,
      billRows: 3,
    });
    expect(first.run.billSha1).toMatch(/^[0-9a-f]{40}$/);
    const settled = await orderState(dropped.orderNo);
    expect(settled).toMatchObject({ status: 'paid', grants: 1, paid_events: 1 });

    const second = await service.reconcile('wechat', today, { force: true });
    expect(second.status).toBe('completed');
    expect(await orderState(dropped.orderNo)).toEqual(settled);
    // Recorded now, the payment matches; what reconciliation did about it stays on the item.
    expect(await items('wechat')).toEqual(
      expected.map((e) =>
        expect.objectContaining(e.reference === dropped.paymentNo ? { reference: e.reference, outcome: 'matched', action: 'settled' } : e),
      ),
    );
    expect(await invariantViolations(t.db)).toEqual({});
    const metrics = await t.http.get('/metrics').expect(200);
    expect(metrics.text).toContain('memberpay_reconciliation_items{provider="wechat",outcome="amount_mismatch"} 1');
    expect(metrics.text).toContain('memberpay_reconciliation_open_items{provider="wechat"} 2');
    expect(metrics.text).toContain('memberpay_reconciliation_last_run{provider="wechat",status="completed"} 1');
    expect(metrics.text).toMatch(/memberpay_orders_paid_total\{method="wechat",source="reconciliation"\} 1/);
  });

  it('refuses a bill whose SHA1 does not match, keeping the last comparison', async () => {
    await paidOrder('rec-w5', 'wechat');
    const before = await items('wechat');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'bill', mode: 'bill-wrong-hash', times: 1 });
    const result = await service.reconcile('wechat', today, { force: true });
    expect(result).toMatchObject({ status: 'failed', reason: expect.stringContaining('SHA1') });
    expect(result.run).toMatchObject({ status: 'failed', lastError: expect.stringContaining('SHA1') });
    expect(await items('wechat')).toEqual(before);
  });

  it('retries a bill that is not ready, and compares it once it is', async () => {
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'bill', mode: 'bill-not-ready', times: 1 });
    const now = new Date();
    const notReady = await service.reconcile('wechat', today, { force: true, now });
    expect(notReady).toMatchObject({ status: 'not_ready', reason: expect.stringContaining('STATEMENT_CREATING') });
    expect(notReady.run!.nextAttemptAt!.getTime()).toBeGreaterThan(now.getTime());
    // Not due yet: the scheduled path leaves it alone; due: it is compared.
    expect((await service.reconcile('wechat', today, { now })).status).toBe('skipped');
    const later = new Date(notReady.run!.nextAttemptAt!.getTime() + 1000);
    const retried = await service.reconcile('wechat', today, { now: later });
    expect(retried.status).toBe('completed');
  });

  it('reconciles Alipay the same way: the dropped payment settled, a no-statement day with our payments is not ready', async () => {
    const matched = await paidOrder('rec-a1', 'alipay');
    const dropped = await paidOrder('rec-a2', 'alipay', 'drop');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'alipay', op: 'bill', mode: 'bill-not-ready', times: 1 });
    expect(await service.reconcile('alipay', today, { force: true })).toMatchObject({
      status: 'not_ready',
      reason: expect.stringContaining('bill_not_exist'),
    });
    const done = await service.reconcile('alipay', today, { force: true });
    expect(done).toMatchObject({ status: 'completed', run: { matched: 1, missingLocally: 1, openItems: 0 } });
    const expected = [
      { reference: matched.paymentNo, outcome: 'matched' },
      { reference: dropped.paymentNo, outcome: 'missing_locally', action: 'settled' },
    ].sort((a, b) => a.reference.localeCompare(b.reference));
    expect(await items('alipay')).toEqual(expected.map((e) => expect.objectContaining(e)));
    expect(await orderState(dropped.orderNo)).toMatchObject({ status: 'paid', grants: 1, paid_events: 1 });
  });

  it('support lists runs and items, and resolves a discrepancy (admin only; bad input is a 400)', async () => {
    const admin = `Bearer ${t.adminToken('support-1')}`;
    const member = `Bearer ${t.token('rec-w1')}`;
    await t.http.get('/api/v1/admin/reconciliation/runs').expect(401);
    await t.http.get('/api/v1/admin/reconciliation/runs').set('Authorization', member).expect(403);
    const runs = await t.http.get(`/api/v1/admin/reconciliation/runs?from=${today}&to=${today}`).set('Authorization', admin).expect(200);
    const wechat = runs.body.data.find((r: { provider: string }) => r.provider === 'wechat');
    expect(wechat).toMatchObject({
      bill_date: today,
      status: 'completed',
      counts: { amount_mismatch: 1, missing_at_provider: 1 },
      open_items: 2,
    });

    const open = await t.http
      .get(`/api/v1/admin/reconciliation/runs/${wechat.id}/items?outcome=amount_mismatch`)
      .set('Authorization', admin)
      .expect(200);
    expect(open.body.data).toEqual([expect.objectContaining({ outcome: 'amount_mismatch', open: true, resolved_at: null })]);
    const resolved = await t.http
      .post(`/api/v1/admin/reconciliation/items/${open.body.data[0].id}/resolve`)
      .set('Authorization', admin)
      .send({ note: '  the provider confirmed a fee correction  ' })
      .expect(200);
    expect(resolved.body).toMatchObject({
      open: false,
      resolved_by: 'support-1',
      resolution_note: 'the provider confirmed a fee correction',
    });
    const after = await t.http.get(`/api/v1/admin/reconciliation/runs?from=${today}&to=${today}`).set('Authorization', admin).expect(200);
    expect(after.body.data.find((r: { id: string }) => r.id === wechat.id).open_items).toBe(1);
    // Reconciling the day again keeps support's resolution of an item that comes out the same.
    await service.reconcile('wechat', today, { force: true });
    const again = await t.http
      .get(`/api/v1/admin/reconciliation/runs/${wechat.id}/items?outcome=amount_mismatch`)
      .set('Authorization', admin)
      .expect(200);
    expect(again.body.data).toEqual([expect.objectContaining({ open: false, resolved_by: 'support-1' })]);
    // Resolving it again adds to its history: the first resolution is kept, and shown.
    const second = await t.http
      .post(`/api/v1/admin/reconciliation/items/${again.body.data[0].id}/resolve`)
      .set('Authorization', `Bearer ${t.adminToken('support-9')}`)
      .send({ note: 'fee refunded by the provider on 12-02' })
      .expect(200);
    const history = [
      { resolved_at: resolved.body.resolved_at, resolved_by: 'support-1', note: 'the provider confirmed a fee correction' },
      { resolved_at: second.body.resolved_at, resolved_by: 'support-9', note: 'fee refunded by the provider on 12-02' },
    ];
    expect(second.body).toMatchObject({ open: false, resolved_by: 'support-9', resolutions: history });
    await service.reconcile('wechat', today, { force: true });
    const listed = await t.http
      .get(`/api/v1/admin/reconciliation/runs/${wechat.id}/items?outcome=amount_mismatch`)
      .set('Authorization', admin)
      .expect(200);
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        open: false,
        resolved_by: 'support-9',
        resolution_note: 'fee refunded by the provider on 12-02',
        resolutions: history,
      }),
    ]);

    const bad = [
      ['GET', '/api/v1/admin/reconciliation/runs?from=2026-13-01'],
      ['GET', `/api/v1/admin/reconciliation/runs?from=${today}&to=2020-01-01`],
      ['GET', '/api/v1/admin/reconciliation/runs/not-a-uuid/items'],
      ['GET', `/api/v1/admin/reconciliation/runs/${wechat.id}/items?outcome=lost`],
    ];
    for (const [, path] of bad) {
      const res = await t.http.get(path).set('Authorization', admin);
      expect([path, res.status, res.body.code]).toEqual([path, 400, 'VALIDATION_FAILED']);
    }
    await t.http
      .post(`/api/v1/admin/reconciliation/items/${open.body.data[0].id}/resolve`)
      .set('Authorization', admin)
      .send({ note: ' ' })
      .expect(400);
    await t.http
      .get('/api/v1/admin/reconciliation/runs/00000000-0000-4000-8000-000000000000/items')
      .set('Authorization', admin)
      .expect(404)
      .expect((res) => expect(res.body.code).toBe('NOT_FOUND'));
    await t.http
      .post('/api/v1/admin/reconciliation/items/00000000-0000-4000-8000-000000000000/resolve')
      .set('Authorization', admin)
      .send({ note: 'x' })
      .expect(404);
  });

  it('refunds: one that succeeded unseen is recorded from the refund query, one nobody here asked for is reported', async () => {
    const admin = `Bearer ${t.adminToken('support-2')}`;
    const refunded = await paidOrder('rec-r1', 'wechat');
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'refund-later', times: 1 });
    const asked = await t.http
      .post(`/api/v1/admin/orders/${refunded.orderNo}/refunds`)
      .set('Authorization', admin)
      .send({ reason: 'customer asked' });
    expect([asked.status, asked.body.status]).toEqual([202, 'processing']);
    // It succeeds at WeChat Pay, whose notification never arrives.
    expect(
      (await sandboxCall(sb, 'POST', '/sandbox/refunds/settle', { out_refund_no: asked.body.refund_no, delivery: 'drop' })).status,
    ).toBe(200);
    const outside = await paidOrder('rec-r2', 'wechat');
    await t.app.get(ProviderRegistry).refunds('wechat').refund({
      refundNo: 'RFOUTSIDEOFMEMBERPAY01',
      paymentNo: outside.paymentNo,
      amountFen: outside.amount,
      totalFen: outside.amount,
      reason: 'merchant portal',
    });

    const result = await service.reconcile('wechat', today, { force: true });
    expect(result.status).toBe('completed');
    const refundItems = (
      await t.db.query(
        `SELECT i.reference, i.outcome, i.action, i.local_status, i.provider_status, (i.resolved_at IS NOT NULL) AS resolved, i.detail
       FROM reconciliation_items i JOIN reconciliation_runs r ON r.id = i.run_id
       WHERE r.provider = 'wechat' AND r.bill_date = $1 AND i.kind = 'refund' ORDER BY i.reference`,
        [today],
      )
    ).rows;
    expect(refundItems).toEqual([
      expect.objectContaining({
        reference: asked.body.refund_no,
        outcome: 'status_mismatch',
        action: 'recorded',
        local_status: 'processing',
        provider_status: 'SUCCESS',
        resolved: true,
      }),
      expect.objectContaining({
        reference: 'RFOUTSIDEOFMEMBERPAY01',
        outcome: 'missing_locally',
        action: null,
        resolved: false,
        detail: expect.stringContaining('the refund query says success'),
      }),
    ]);
    const {
      rows: [local],
    } = await t.db.query('SELECT status FROM refunds WHERE refund_no = $1', [asked.body.refund_no]);
    expect(local.status).toBe('success');
    expect((await t.db.query('SELECT status FROM orders WHERE order_no = $1', [refunded.orderNo])).rows[0].status).toBe('refunded');
  });

  it('an Alipay refund is listed by its out_request_no, negative in the bill, and matches ours', async () => {
    const admin = `Bearer ${t.adminToken('support-3')}`;
    const paid = await paidOrder('rec-a3', 'alipay');
    const refund = await t.http
      .post(`/api/v1/admin/orders/${paid.orderNo}/refunds`)
      .set('Authorization', admin)
      .send({ reason: 'customer asked', amount: 500 });
    expect([refund.status, refund.body.status]).toEqual([202, 'success']);
    const result = await service.reconcile('alipay', today, { force: true });
    expect(result.status).toBe('completed');
    const { rows } = await t.db.query(
      `SELECT i.kind, i.outcome, i.payment_no, i.local_amount, i.provider_amount FROM reconciliation_items i
       JOIN reconciliation_runs r ON r.id = i.run_id WHERE r.provider = 'alipay' AND r.bill_date = $1 AND i.reference = $2`,
      [today, refund.body.refund_no],
    );
    expect(rows).toEqual([{ kind: 'refund', outcome: 'matched', payment_no: paid.paymentNo, local_amount: 500, provider_amount: 500 }]);
  });

  it('the scheduled job takes up the day before from the configured Beijing time, once', async () => {
    const tomorrowMorning = new Date(Date.parse(`${today}T10:31:00+08:00`) + 24 * 3600_000);
    const tooEarly = new Date(Date.parse(`${today}T10:29:00+08:00`) + 24 * 3600_000);
    await t.db.query('DELETE FROM reconciliation_runs WHERE bill_date = $1', [today]);
    const job = t.app.get(ReconcileBillsJob);
    const runsOfToday = async () =>
      (await t.db.query('SELECT provider, status FROM reconciliation_runs WHERE bill_date = $1 ORDER BY provider', [today])).rows;
    // Before the time, only the days before yesterday (nothing happened then: empty days) are taken up.
    expect(await job.run(tooEarly)).toMatchObject({ claimed: 4, completed: 4 });
    expect(await runsOfToday()).toEqual([]);
    // Two instances at once: each day is claimed by one of them.
    const [one, other] = await Promise.all([job.run(tomorrowMorning), job.run(tomorrowMorning)]);
    expect(one.claimed + other.claimed).toBe(2);
    expect(one.completed + other.completed).toBe(2);
    expect(await runsOfToday()).toEqual([
      { provider: 'alipay', status: 'completed' },
      { provider: 'wechat', status: 'completed' },
    ]);
    expect(await job.run(tomorrowMorning)).toMatchObject({ claimed: 0 });
  });

  it('a payment the bill shows for a number we never issued stays open for support, never settled by guessing', async () => {
    const stranger = `MPSTRANGER${Date.now()}`;
    const qr = await t.app
      .get(ProviderRegistry)
      .get('wechat')
      .createQr({
        paymentNo: stranger,
        amountFen: 990,
        description: 'not ours',
        expiresAt: new Date(Date.now() + 600_000),
      });
    await payAtSandbox(sb, qr.qrCodeUrl, { delivery: 'drop' });
    const result = await service.reconcile('wechat', today, { force: true });
    expect(result.status).toBe('completed');
    const { rows } = await t.db.query(
      `SELECT i.outcome, i.action, i.resolved_at, i.detail FROM reconciliation_items i JOIN reconciliation_runs r ON r.id = i.run_id
       WHERE r.provider = 'wechat' AND r.bill_date = $1 AND i.reference = $2`,
      [today, stranger],
    );
    expect(rows).toEqual([
      {
        outcome: 'missing_locally',
        action: null,
        resolved_at: null,
        detail: expect.stringContaining('no payment attempt has this out_trade_no'),
      },
    ]);
    expect((await t.db.query('SELECT count(*)::int AS n FROM payment_records WHERE payment_no = $1', [stranger])).rows[0].n).toBe(0);
  });
});
