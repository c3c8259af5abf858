import { MAX_REFUSAL_ROWS_PER_ORDER, NotificationRefusalsRepository } from '../../src/payments/notification-refusals.repository';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox, postNotification } from '../support/orders';
import { providerEnv } from '../support/sandbox';

// Refused notifications in an order's story: a notification refused (forged, stale, another amount…)
// that names one of our payments is filed under its order, with the provider, the rejection code,
// the time and a count per minute, and nothing of what it said; one that names nothing of ours
// leaves no trace but the logs and metrics.

describe('refused notifications in the console', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });
  const admin = (path: string) => t.http.get(path).set('Authorization', `Bearer ${t.adminToken('admin-1')}`);
  const prepared = async (qr: string, options: Record<string, unknown>) => {
    const res = await payAtSandbox(sb, qr, { delivery: 'none', ...options });
    expect(res.status).toBe(200);
    return res.body.notification as { headers: Record<string, string>; body: string };
  };
  const paymentNoOf = async (orderNo: string) =>
    (await t.db.query('SELECT payment_no FROM orders WHERE order_no = $1', [orderNo])).rows[0].payment_no as string;
  const refusalRows = async () => (await t.db.query('SELECT * FROM notification_refusals ORDER BY id')).rows;
  const refusedIn = async (orderNo: string) =>
    (await admin(`/api/v1/admin/orders/${orderNo}/timeline`).expect(200)).body.timeline.filter(
      (e: any) => e.kind === 'notification.refused',
    );

  it('files a forged WeChat Pay notification for a real order under that order, counted, with the code and nothing it said', async () => {
    const order = await createOrder(t, 'refused-1', { payment_method: 'wechat' });
    const paymentNo = await paymentNoOf(order.order_no);
    // WeChat Pay's own notification for this payment, its signature spoiled: sent twice, as a replayer would.
    const forged = await prepared(order.qr_code_url, { tamper: 'signature' });
    expect((await postNotification(t, 'wechat', forged)).status).toBe(400);
    expect((await postNotification(t, 'wechat', forged)).status).toBe(400);

    const refused = await refusedIn(order.order_no);
    expect(refused).toEqual([
      {
        at: expect.any(String),
        kind: 'notification.refused',
        ref: paymentNo,
        detail: { provider: 'wechat', reason: 'BAD_SIGNATURE', count: 2, last_at: expect.any(String) },
      },
    ]);
    // It changed nothing, and what the notification claimed (its transaction id, amount, payer) was not kept.
    const story = (await admin(`/api/v1/admin/orders/${order.order_no}/timeline`).expect(200)).body;
    expect(story.order.status).toBe('pending');
    const rows = await refusalRows();
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]).sort()).toEqual(
      ['count', 'first_at', 'id', 'last_at', 'minute', 'order_id', 'payment_no', 'provider', 'reason'].sort(),
    );
    expect(JSON.stringify(rows)).not.toMatch(/4200|transaction_id|ciphertext|openid/);
  });

  it('files a forged Alipay form and a signed notification with another amount, each under its code', async () => {
    const alipay = await createOrder(t, 'refused-2', { payment_method: 'alipay' });
    const alipayNo = await paymentNoOf(alipay.order_no);
    // Made up by hand: our out_trade_no, a payment that never happened, a signature that is not Alipay's.
    const form = new URLSearchParams({
      out_trade_no: alipayNo,
      trade_status: 'TRADE_SUCCESS',
      total_amount: '0.01',
      trade_no: '2099010122001400000000000001',
      sign_type: 'RSA2',
      sign: Buffer.from('not a signature').toString('base64'),
    }).toString();
    const res = await postNotification(t, 'alipay', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(await res.text()).toBe('failure');
    expect(await refusedIn(alipay.order_no)).toEqual([
      expect.objectContaining({
        ref: alipayNo,
        detail: expect.objectContaining({ provider: 'alipay', reason: 'BAD_SIGNATURE', count: 1 }),
      }),
    ]);

    const wechat = await createOrder(t, 'refused-2', { payment_method: 'wechat' });
    const other = await prepared(wechat.qr_code_url, { override: { amount: { total: 1, payer_total: 1 } } });
    expect((await postNotification(t, 'wechat', other)).status).toBe(400);
    expect(await refusedIn(wechat.order_no)).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ provider: 'wechat', reason: 'AMOUNT_MISMATCH', count: 1 }) }),
    ]);
    // Each order shows only its own.
    expect((await refusedIn(alipay.order_no)).map((e: any) => e.detail.reason)).toEqual(['BAD_SIGNATURE']);
  });

  it('adds nothing for garbage or for a notification that names no order of ours', async () => {
    const before = (await refusalRows()).length;
    const order = await createOrder(t, 'refused-3', { payment_method: 'wechat' });
    const answers = await Promise.all([
      postNotification(t, 'wechat', {
        headers: { 'content-type': 'application/json' },
        body: '{"resource":{"ciphertext":"AAAA","nonce":"x"}}',
      }),
      postNotification(t, 'wechat', { headers: { 'content-type': 'application/json' }, body: 'not json at all' }),
      postNotification(t, 'alipay', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'out_trade_no=MP20990101000000NOTOURS00001&sign=AAAA',
      }),
      postNotification(t, 'alipay', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'sign=AAAA&trade_status=TRADE_SUCCESS',
      }),
      // Our order's number is not a payment number; a number sent twice names nothing for sure.
      postNotification(t, 'alipay', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `out_trade_no=${order.order_no}&sign=AAAA`,
      }),
      postNotification(t, 'alipay', {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `out_trade_no=${await paymentNoOf(order.order_no)}&out_trade_no=x&sign=AAAA`,
      }),
    ]);
    for (const a of answers) expect(a.status).toBeGreaterThanOrEqual(400);
    // A signed notification for an attempt we never made: refused as unknown, filed nowhere.
    const unknown = await prepared(order.qr_code_url, { override: { out_trade_no: 'MP20990101000000UNKNOWN0001' } });
    expect((await postNotification(t, 'wechat', unknown)).status).toBe(400);
    expect(await refusalRows()).toHaveLength(before);
    expect(await refusedIn(order.order_no)).toEqual([]);
  });

  it('keeps at most one row per order, provider, code and minute, and a bounded number of rows per order', async () => {
    const order = await createOrder(t, 'refused-4', { payment_method: 'wechat' });
    const paymentNo = await paymentNoOf(order.order_no);
    const refusals = t.app.get(NotificationRefusalsRepository);
    const start = Date.parse('2026-12-01T00:00:00Z');
    // A flood spread over more minutes than an order may hold rows: the rows stop at the bound.
    for (let i = 0; i < MAX_REFUSAL_ROWS_PER_ORDER + 20; i++)
      await refusals.record('wechat', paymentNo, 'STALE_TIMESTAMP', new Date(start + i * 60_000 + 5_000));
    const count = async () =>
      Number((await t.db.query('SELECT count(*) FROM notification_refusals WHERE payment_no = $1', [paymentNo])).rows[0].count);
    expect(await count()).toBe(MAX_REFUSAL_ROWS_PER_ORDER);
    // A minute that has its row still counts; a new one is not added.
    expect(await refusals.record('wechat', paymentNo, 'STALE_TIMESTAMP', new Date(start + 30_000))).toBe(true);
    expect(await refusals.record('wechat', paymentNo, 'BAD_SIGNATURE', new Date(start + 30_000))).toBe(false);
    expect(await count()).toBe(MAX_REFUSAL_ROWS_PER_ORDER);
    const first = (
      await t.db.query('SELECT count, first_at, last_at FROM notification_refusals WHERE payment_no = $1 ORDER BY minute LIMIT 1', [
        paymentNo,
      ])
    ).rows[0];
    expect(first.count).toBe(2);
    expect(new Date(first.first_at).getTime()).toBe(start + 5_000);
    expect(new Date(first.last_at).getTime()).toBe(start + 30_000);
    // The story shows them all (within the bound), each with its count.
    const refused = await refusedIn(order.order_no);
    expect(refused).toHaveLength(MAX_REFUSAL_ROWS_PER_ORDER);
    expect(refused[0].detail).toMatchObject({ reason: 'STALE_TIMESTAMP', count: 2 });
    expect(await refusals.record('wechat', 'MP-NOT-OURS', 'BAD_SIGNATURE', new Date())).toBe(false);
    expect(await refusals.record('wechat', "x' OR 1=1 --", 'BAD_SIGNATURE', new Date())).toBe(false);
  });
});
