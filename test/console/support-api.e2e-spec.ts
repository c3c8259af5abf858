import { withInvariants } from '../support/lifecycle';
import { parse } from 'csv-parse/sync';
import { beijingDayOf } from '../../src/common/beijing-day';
import { fenToYuan } from '../../src/common/money';
import { startTestApp, type TestApp } from '../support/app';
import { createOrder, payAtSandbox } from '../support/orders';
import { refundRow, requestRefund } from '../support/refunds';
import { providerEnv, sandboxCall, startTestSandbox, type Sandbox } from '../support/sandbox';

// The support console's API: the look-ups it added (search by any number, an order's story, a
// member), the audit log written with each action, re-running a day and the day's books as CSV.

const BOM = '\uFEFF';

describe('support console API', () => {
  let sb: Sandbox;
  let t: TestApp;
  withInvariants(() => t?.db);
  const today = beijingDayOf(new Date());
  const admin = (path: string) => t.http.get(path).set('Authorization', `Bearer ${t.adminToken('admin-1')}`);
  const adminPost = (path: string, body: Record<string, unknown>) =>
    t.http
      .post(path)
      .set('Authorization', `Bearer ${t.adminToken('admin-1')}`)
      .send(body);

  beforeAll(async () => {
    sb = await startTestSandbox();
    t = await startTestApp((port) => providerEnv(sb, port));
  });
  afterEach(async () => {
    await sandboxCall(sb, 'DELETE', '/sandbox/bills/tweaks');
  });
  afterAll(async () => {
    await t?.close();
    await sb?.close();
  });

  async function paid(user: string, method: 'wechat' | 'alipay', delivery = 'normal') {
    const order = await createOrder(t, user, { payment_method: method });
    const res = await payAtSandbox(sb, order.qr_code_url, { delivery });
    expect(res.status).toBe(200);
    // A dropped notification leaves the order pending; the sandbox still knows the payment.
    const {
      rows: [row],
    } = await t.db.query('SELECT payment_no FROM orders WHERE order_no = $1', [order.order_no]);
    return { orderNo: order.order_no, paymentNo: row.payment_no as string, amount: order.amount };
  }
  const transactionIdOf = async (paymentNo: string) =>
    (await t.db.query('SELECT transaction_id FROM payment_records WHERE payment_no = $1', [paymentNo])).rows[0].transaction_id as string;
  const auditRows = async () => (await t.db.query('SELECT * FROM admin_audit_log ORDER BY id')).rows;

  it('finds an order by its order, payment, provider trade and refund numbers and by user id, with filters and pages', async () => {
    const w = await paid('find-1', 'wechat');
    const a = await paid('find-1', 'alipay');
    const txn = await transactionIdOf(w.paymentNo);
    expect(txn).toBeTruthy();

    const byTxn = (await admin(`/api/v1/admin/search?q=${txn}`).expect(200)).body;
    expect(byTxn.data).toEqual([expect.objectContaining({ order_no: w.orderNo, matched_by: 'transaction_id', transaction_id: txn })]);
    expect((await admin(`/api/v1/admin/search?q=${w.paymentNo}`).expect(200)).body.data).toEqual([
      expect.objectContaining({ order_no: w.orderNo, matched_by: 'payment_no' }),
    ]);
    expect((await admin(`/api/v1/admin/search?q=${w.orderNo}`).expect(200)).body.data).toEqual([
      expect.objectContaining({ order_no: w.orderNo, matched_by: 'order_no' }),
    ]);
    const alipayTrade = await transactionIdOf(a.paymentNo);
    expect((await admin(`/api/v1/admin/search?q=${alipayTrade}`).expect(200)).body.data.map((o: any) => o.order_no)).toEqual([a.orderNo]);

    const byUser = (await admin('/api/v1/admin/search?q=find-1').expect(200)).body;
    expect(byUser.data.map((o: any) => o.order_no)).toEqual([a.orderNo, w.orderNo]);
    expect(byUser.data.every((o: any) => o.matched_by === 'user_id')).toBe(true);
    expect((await admin('/api/v1/admin/search?q=find-1&provider=wechat').expect(200)).body.data.map((o: any) => o.order_no)).toEqual([
      w.orderNo,
    ]);
    expect((await admin('/api/v1/admin/search?q=find-1&status=pending').expect(200)).body.data).toEqual([]);
    expect((await admin('/api/v1/admin/search?q=find-1&channel=qr&status=paid').expect(200)).body.data).toHaveLength(2);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await admin(`/api/v1/admin/search?q=find-1&from=${encodeURIComponent(future)}`).expect(200)).body.data).toEqual([]);

    const first = (await admin('/api/v1/admin/search?q=find-1&limit=1').expect(200)).body;
    expect(first).toMatchObject({ data: [{ order_no: a.orderNo }], has_more: true });
    const second = (await admin(`/api/v1/admin/search?q=find-1&limit=1&starting_after=${a.orderNo}`).expect(200)).body;
    expect(second).toMatchObject({ data: [{ order_no: w.orderNo }], has_more: false });

    const refund = (await requestRefund(t, w.orderNo, { amount: 100, reason: 'find me' }).expect(202)).body;
    expect((await admin(`/api/v1/admin/search?q=${refund.refund_no}`).expect(200)).body.data).toEqual([
      expect.objectContaining({ order_no: w.orderNo, matched_by: 'refund_no' }),
    ]);
    expect((await admin('/api/v1/admin/search?q=nobody-at-all').expect(200)).body).toEqual({ data: [], has_more: false });

    const bad = (await admin(`/api/v1/admin/search?q=${encodeURIComponent("x' OR 1=1")}&status=gone`).expect(400)).body;
    expect(bad).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED', requestId: expect.any(String) });
    expect(bad.message.join(' ')).toMatch(/q must be/);
    expect(bad.message.join(' ')).toMatch(/status must be one of/);
  });

  it("tells an order's story and records a refund in the audit log with the refund, once per Idempotency-Key", async () => {
    const w = await paid('story-1', 'wechat');
    const send = () =>
      requestRefund(
        t,
        w.orderNo,
        { amount: 500, reason: '客户要求部分退款' },
        { 'Idempotency-Key': 'console-story-1', 'X-Request-Id': 'req-story-1' },
      );
    const [one, two] = await Promise.all([send(), send()]);
    const statuses = [one.status, two.status].sort();
    // The second is a replay of the first or, while the first still runs, refused as in flight: never a second refund.
    expect([
      [202, 202],
      [202, 409],
    ]).toContainEqual(statuses);
    const refundNo = (one.status === 202 ? one : two).body.refund_no;
    expect(await refundRow(t, refundNo)).toMatchObject({ status: 'success' });
    const { rows: refunds } = await t.db.query(
      'SELECT r.refund_no FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1',
      [w.orderNo],
    );
    expect(refunds).toHaveLength(1);

    const entries = (await auditRows()).filter((e) => e.target === w.orderNo);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: 'admin-1',
      action: 'refund.requested',
      target_type: 'order',
      reason: '客户要求部分退款',
      client_address: expect.stringMatching(/127\.0\.0\.1/),
      request_id: 'req-story-1',
      detail: { refund_no: refundNo, amount: 500, payment_no: w.paymentNo, idempotency_key: 'console-story-1' },
    });

    // A refused refund leaves no entry: the entry commits with the refund or not at all.
    await requestRefund(t, w.orderNo, { amount: 10_000_000, reason: 'too much' }).expect(409);
    expect((await auditRows()).filter((e) => e.target === w.orderNo)).toHaveLength(1);

    const story = (await admin(`/api/v1/admin/orders/${w.orderNo}/timeline`).expect(200)).body;
    expect(story.order).toMatchObject({ order_no: w.orderNo, status: 'partially_refunded', refunded_amount: 500 });
    expect(story.refundable).toBe(w.amount - 500);
    const kinds = story.timeline.map((e: any) => e.kind);
    for (const kind of [
      'order.created',
      'attempt.opened',
      'attempt.paid',
      'membership.granted',
      'event.sent',
      'refund.requested',
      'refund.finished',
      'admin.action',
    ])
      expect(kinds).toContain(kind);
    // In the order things happened, even where a provider's time has whole seconds only.
    const order = [
      'order.created',
      'attempt.opened',
      'attempt.paid',
      'membership.granted',
      'admin.action',
      'refund.requested',
      'refund.finished',
    ];
    expect(order.map((k) => kinds.indexOf(k))).toEqual([...order.map((k) => kinds.indexOf(k))].sort((x, y) => x - y));
    expect(story.timeline.find((e: any) => e.kind === 'attempt.paid')).toMatchObject({
      ref: w.paymentNo,
      detail: { transaction_id: await transactionIdOf(w.paymentNo), verified: true },
    });
    expect(story.timeline.find((e: any) => e.kind === 'attempt.opened').detail.link).toMatch(/^weixin:\/\//);
    expect(story.timeline.find((e: any) => e.kind === 'refund.finished')).toMatchObject({ ref: refundNo, detail: { status: 'success' } });
    expect(story.timeline.filter((e: any) => e.kind === 'event.sent').map((e: any) => e.detail.type)).toEqual([
      'order.paid',
      'order.refunded',
    ]);
    expect(story.timeline.find((e: any) => e.kind === 'admin.action').detail).toMatchObject({
      action: 'refund.requested',
      actor: 'admin-1',
    });
    await admin('/api/v1/admin/orders/MO-NOPE/timeline').expect(404);
  });

  it('shows a member: level, periods past and future, orders, refunds, and no auto-renewal contract yet', async () => {
    const w = await paid('member-1', 'wechat');
    await paid('member-1', 'alipay');
    await requestRefund(t, w.orderNo, { amount: 1, reason: 'goodwill' }).expect(202);
    const m = (await admin('/api/v1/admin/members/member-1').expect(200)).body;
    expect(m).toMatchObject({ user_id: 'member-1', level: 1, auto_renewal: null });
    expect(m.periods.length).toBeGreaterThanOrEqual(1);
    expect(m.periods[0]).toMatchObject({ state: 'current', level: 1 });
    expect(new Date(m.expires_at).getTime()).toBeGreaterThan(Date.now() + 50 * 86_400_000);
    expect(m.orders).toHaveLength(2);
    expect(m.refunds).toEqual([expect.objectContaining({ order_no: w.orderNo, amount: 1, reason: 'goodwill' })]);
    await admin('/api/v1/admin/members/nobody-here').expect(404);
    await admin(`/api/v1/admin/members/${encodeURIComponent('bad id!')}`).expect(400);
  });

  it('re-runs a day with a reason, resolves a discrepancy with a note, exports the day as CSV, and logs each action', async () => {
    // The Alipay payment is never notified: only the bill shows it, and the re-run settles it.
    const settled = await paid('books-1', 'alipay', 'drop');
    const differs = await paid('books-2', 'wechat');
    await sandboxCall(sb, 'POST', '/sandbox/bills/tweaks', {
      provider: 'wechat',
      out_trade_no: differs.paymentNo,
      amount_fen: differs.amount + 100,
    });

    const alipay = (
      await adminPost('/api/v1/admin/reconciliation/runs', { provider: 'alipay', bill_date: today, reason: '补对账' }).expect(200)
    ).body;
    expect(alipay).toMatchObject({ status: 'completed', run: { provider: 'alipay', bill_date: today } });
    expect((await t.db.query('SELECT status FROM orders WHERE order_no = $1', [settled.orderNo])).rows[0].status).toBe('paid');
    const wechat = (
      await adminPost('/api/v1/admin/reconciliation/runs', { provider: 'wechat', bill_date: today, reason: 'check' }).expect(200)
    ).body;
    expect(wechat.run.open_items).toBeGreaterThanOrEqual(1);

    const story = (await admin(`/api/v1/admin/orders/${settled.orderNo}/timeline`).expect(200)).body;
    expect(story.timeline.find((e: any) => e.kind === 'reconciliation.item')).toMatchObject({
      detail: { provider: 'alipay', bill_date: today, outcome: 'missing_locally', action: 'settled', open: false },
    });

    const items = (await admin(`/api/v1/admin/reconciliation/runs/${wechat.run.id}/items`).expect(200)).body.data;
    const open = items.find((i: any) => i.payment_no === differs.paymentNo);
    expect(open).toMatchObject({ outcome: 'amount_mismatch', open: true });
    await adminPost(`/api/v1/admin/reconciliation/items/${open.id}/resolve`, { note: '=HYPERLINK("x") 已人工核实' }).expect(200);

    const res = await admin(`/api/v1/admin/reconciliation/export.csv?from=${today}`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="memberpay-books-all-${today}.csv"`);
    const bytes = res.body as Buffer;
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    expect(text.startsWith(BOM)).toBe(true);
    const rows: Record<string, string>[] = parse(text, { bom: true, columns: true });
    expect(Object.keys(rows[0])).toEqual(
      expect.arrayContaining(['账单日期', '订单号', '商户支付单号', '渠道交易号', '我方金额(元)', '账单金额(元)', '对账结果', '是否一致']),
    );
    const settledRow = rows.find((r) => r['商户支付单号'] === settled.paymentNo)!;
    expect(settledRow).toMatchObject({
      账单日期: today,
      支付渠道: '支付宝',
      订单号: settled.orderNo,
      渠道交易号: await transactionIdOf(settled.paymentNo),
      '账单金额(元)': `${Math.trunc(settled.amount / 100)}.${String(settled.amount % 100).padStart(2, '0')}`,
      系统处理: 'settled',
    });
    // The provider's fee as its bill wrote it: Alipay's 服务费 to the fen (0.6 %, rounded by Alipay),
    // WeChat Pay's 手续费 to 0.00001 yuan, never rounded to the fen; positive: charged.
    expect(settledRow['手续费(元)']).toBe(fenToYuan(Math.round((settled.amount * 6) / 1000)));
    const wechatFee = (fen: number) => `${Math.trunc((fen * 6) / 100_000)}.${String((fen * 6) % 100_000).padStart(5, '0')}`;
    const differsRow = rows.find((r) => r['商户支付单号'] === differs.paymentNo)!;
    expect(differsRow['手续费(元)']).toBe(wechatFee(differs.amount + 100));
    expect(differsRow['手续费(元)']).toMatch(/^\d+\.\d{5}$/);
    const wechatItem = items.find((i: any) => i.payment_no === differs.paymentNo);
    expect(wechatItem.provider_fee).toBe(wechatFee(differs.amount + 100));
    expect(differsRow).toMatchObject({ 对账结果: 'amount_mismatch', 是否一致: '否', 处理人: 'admin-1' });
    expect(differsRow['说明']).toMatch(/^金额不一致/);
    // Typed text never reaches a spreadsheet as a formula.
    expect(differsRow['处理备注']).toBe(`'=HYPERLINK("x") 已人工核实`);
    const providerFen = Number(differsRow['账单金额(元)'].replace('.', ''));
    expect(providerFen).toBe(differs.amount + 100);

    const en = await admin(`/api/v1/admin/reconciliation/export.csv?from=${today}&to=${today}&provider=wechat&lang=en`).expect(200);
    const enRows: Record<string, string>[] = parse(en.text, { bom: true, columns: true });
    expect(enRows.length).toBeGreaterThan(0);
    expect(enRows.every((r) => r.Provider === 'WeChat Pay')).toBe(true);
    expect(Object.keys(enRows[0])).toEqual(expect.arrayContaining(['Order no.', 'Provider fee (CNY)']));
    expect(enRows.find((r) => r['Payment no. (out_trade_no)'] === differs.paymentNo)!['Provider fee (CNY)']).toBe(
      wechatFee(differs.amount + 100),
    );

    await admin('/api/v1/admin/reconciliation/export.csv?from=2026-02-30').expect(400);
    await admin('/api/v1/admin/reconciliation/export.csv?from=2026-02-03&to=2026-02-01').expect(400);
    await admin('/api/v1/admin/reconciliation/export.csv').expect(400);
    await adminPost('/api/v1/admin/reconciliation/runs', { provider: 'alipay', bill_date: today }).expect(400);
    await adminPost('/api/v1/admin/reconciliation/runs', { provider: 'alipay', bill_date: '2999-01-01', reason: 'x' }).expect(400);

    const log = (await admin('/api/v1/admin/audit-log?limit=100').expect(200)).body.data;
    const actions = log.map((e: any) => `${e.action} ${e.target}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        `reconciliation.day_rerun alipay ${today}`,
        `reconciliation.day_rerun wechat ${today}`,
        `reconciliation.item_resolved ${open.id}`,
        `reconciliation.exported all ${today}`,
        `reconciliation.exported wechat ${today}`,
      ]),
    );
    expect(log.find((e: any) => e.action === 'reconciliation.day_rerun' && e.target === `alipay ${today}`)).toMatchObject({
      actor: 'admin-1',
      reason: '补对账',
      detail: { run_id: alipay.run.id },
    });
    // Newest first, and the filters narrow it.
    expect(log.map((e: any) => Number(e.id))).toEqual([...log.map((e: any) => Number(e.id))].sort((x, y) => y - x));
    const resolved = (await admin('/api/v1/admin/audit-log?action=reconciliation.item_resolved').expect(200)).body.data;
    expect(resolved).toEqual([expect.objectContaining({ target: open.id, reason: '=HYPERLINK("x") 已人工核实' })]);
    const page = (await admin('/api/v1/admin/audit-log?limit=1').expect(200)).body;
    expect(page.has_more).toBe(true);
    const next = (await admin(`/api/v1/admin/audit-log?limit=1&before=${page.data[0].id}`).expect(200)).body;
    expect(Number(next.data[0].id)).toBeLessThan(Number(page.data[0].id));
  });

  it('keeps the audit log append-only: no route changes it and the database refuses to', async () => {
    await requestRefund(t, (await paid('append-1', 'wechat')).orderNo, { amount: 1, reason: 'x' }).expect(202);
    const auth = { Authorization: `Bearer ${t.adminToken('admin-1')}` };
    for (const method of ['put', 'patch', 'delete'] as const) {
      await t.http[method]('/api/v1/admin/audit-log').set(auth).send({}).expect(404);
      await t.http[method]('/api/v1/admin/audit-log/1').set(auth).send({}).expect(404);
    }
    await expect(t.db.query(`UPDATE admin_audit_log SET reason = 'changed'`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`DELETE FROM admin_audit_log`)).rejects.toThrow(/append-only/);
  });

  it('gives a member token nothing and an anonymous caller nothing; the demo admin token is an admin token', async () => {
    const routes = [
      '/api/v1/admin/search?q=x',
      '/api/v1/admin/orders/MO1/timeline',
      '/api/v1/admin/members/member-1',
      '/api/v1/admin/audit-log',
      `/api/v1/admin/reconciliation/export.csv?from=${today}`,
      '/api/v1/admin/reconciliation/runs',
    ];
    for (const path of routes) {
      const forbidden = (
        await t.http
          .get(path)
          .set('Authorization', `Bearer ${t.token('member-1')}`)
          .expect(403)
      ).body;
      expect(forbidden).toMatchObject({ statusCode: 403, code: 'FORBIDDEN' });
      await t.http.get(path).expect(401);
    }
    await t.http
      .post('/api/v1/admin/reconciliation/runs')
      .set('Authorization', `Bearer ${t.token('member-1')}`)
      .send({})
      .expect(403);
    const before = (await auditRows()).length;
    await t.http
      .post('/api/v1/admin/reconciliation/runs')
      .set('Authorization', `Bearer ${t.token('member-1')}`)
      .send({ provider: 'wechat', bill_date: today, reason: 'x' })
      .expect(403);
    expect(await auditRows()).toHaveLength(before);

    const config = (await t.http.get('/api/v1/console/config').expect(200)).body;
    expect(config).toEqual({ sandbox: true, demo_token: true, payment_methods: ['wechat', 'alipay'] });
    const demo = (await t.http.post('/api/v1/console/demo-token').expect(200)).body;
    expect(demo).toMatchObject({ user_id: 'demo-admin', token: expect.any(String) });
    await t.http.get('/api/v1/admin/audit-log').set('Authorization', `Bearer ${demo.token}`).expect(200);
  });

  it('serves the console at /admin/ with its own CSP, from any folder', async () => {
    const page = await t.http.get('/admin/').expect(200).expect('content-type', /html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    await t.http.get('/admin').expect(301).expect('location', '/admin/');
    await t.http
      .get('/admin/app.js')
      .expect(200)
      .expect('content-type', /javascript/);
    await t.http.get('/admin/nope.js').expect(404);
    await t.http.post('/admin/').expect(404);
  });
});

describe('support console API (production)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      NODE_ENV: 'production',
      ALLOW_EMBEDDED_DB_IN_PRODUCTION: '1',
      JWT_ISSUER: 'https://users.example.com',
      JWT_AUDIENCE: 'memberpay',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses the demo admin token in the error format, and the page is told so', async () => {
    const res = await t.http.post('/api/v1/console/demo-token').expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN', requestId: expect.any(String) });
    expect(res.body).not.toHaveProperty('token');
    expect((await t.http.get('/api/v1/console/config').expect(200)).body).toEqual({
      sandbox: false,
      demo_token: false,
      payment_methods: [],
    });
    await t.http.get('/admin/').expect(200).expect('content-type', /html/);
  });
});
