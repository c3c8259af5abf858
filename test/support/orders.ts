import type { TestApp } from './app';
import { Sandbox, sandboxCall } from './sandbox';

export interface CreatedOrder {
  order_no: string;
  qr_code_url: string;
  amount: number;
  status: string;
}

/** A pending order through the real API (a plain membership purchase unless overridden); expects 201. */
export async function createOrder(t: TestApp, user: string, body: Record<string, unknown> = {}): Promise<CreatedOrder> {
  const res = await t.http
    .post('/api/v1/payment/create-order')
    .set('Authorization', `Bearer ${t.token(user)}`)
    .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false, ...body })
    .expect(201);
  return res.body as CreatedOrder;
}

/** The member's GET /membership/me, expecting 200. */
export async function membershipOf(t: TestApp, user: string) {
  return (
    await t.http
      .get('/api/v1/membership/me')
      .set('Authorization', `Bearer ${t.token(user)}`)
      .expect(200)
  ).body;
}

/** The buyer scans and pays at the sandbox (options: delivery, tamper, override … see sandbox/README.md). */
export function payAtSandbox(sb: Sandbox, qr: string, options: Record<string, unknown> = {}) {
  return sandboxCall(sb, 'POST', '/sandbox/pay', { qr, ...options });
}

/** Posts a prepared notification to the service, as the provider would. */
export function postNotification(t: TestApp, provider: string, n: { headers: Record<string, string>; body: string }) {
  return fetch(`${t.url}/api/v1/payment/${provider}/callback`, { method: 'POST', headers: n.headers, body: n.body });
}
