import type { TestApp } from './app';
import { createOrder, CreatedOrder, payAtSandbox } from './orders';
import { Sandbox } from './sandbox';

/** A paid order through the real API and the sandbox (notification delivered). */
export async function paidOrder(
  t: TestApp,
  sb: Sandbox,
  user: string,
  method: 'wechat' | 'alipay' = 'wechat',
  body: Record<string, unknown> = {},
): Promise<CreatedOrder> {
  const order = await createOrder(t, user, { payment_method: method, ...body });
  const paid = await payAtSandbox(sb, order.qr_code_url);
  if (paid.status !== 200 || !paid.body.delivered) throw new Error(`payment not delivered: ${JSON.stringify(paid.body)}`);
  return order;
}

/** POST /api/v1/admin/orders/:order_no/refunds as admin `admin-1`. */
export function requestRefund(t: TestApp, orderNo: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return t.http
    .post(`/api/v1/admin/orders/${orderNo}/refunds`)
    .set({ Authorization: `Bearer ${t.adminToken('admin-1')}`, ...headers })
    .send(body);
}

export function adminGet(t: TestApp, path: string) {
  return t.http.get(path).set('Authorization', `Bearer ${t.adminToken('admin-1')}`);
}

/**
 * Polls a refund's row until `done` holds (a provider notification is on its way) or 10 s pass.
 * The refund's state is asserted by the caller afterwards; this only waits.
 */
export async function refundRow(
  t: TestApp,
  refundNo: string,
  done: (row: any) => boolean = (r) => r.status !== 'processing',
): Promise<any> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const {
      rows: [row],
    } = await t.db.query('SELECT * FROM refunds WHERE refund_no = $1', [refundNo]);
    if ((row && done(row)) || Date.now() > deadline) return row;
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function orderRow(t: TestApp, orderNo: string): Promise<any> {
  const {
    rows: [row],
  } = await t.db.query('SELECT * FROM orders WHERE order_no = $1', [orderNo]);
  return row;
}
