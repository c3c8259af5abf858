import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

describe('metrics and health', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });

  const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? 0);

  it('counts a payment in /metrics', async () => {
    const before = (await t.http.get('/metrics').expect(200)).text;
    const created = await t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token('metrics-1')}`)
      .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat' })
      .expect(201);
    await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: created.body.qr_code_url });
    const after = (await t.http.get('/metrics').expect(200)).text;
    const paid = /memberpay_orders_paid_total\{method="wechat",source="notification"\} (\d+)/;
    const created_ = /memberpay_orders_created_total\{method="wechat",channel="qr"\} (\d+)/;
    const accepted = /memberpay_notifications_total\{provider="wechat",outcome="accepted"\} (\d+)/;
    expect(metric(after, paid) - metric(before, paid)).toBe(1);
    expect(metric(after, created_) - metric(before, created_)).toBe(1);
    expect(metric(after, accepted) - metric(before, accepted)).toBe(1);
    expect(after).toMatch(/memberpay_provider_call_duration_seconds_count\{provider="wechat",operation="create",outcome="ok"\} [1-9]/);
    expect(after).toMatch(/memberpay_order_time_to_paid_seconds_count\{method="wechat"\} [1-9]/);
  });

  it('answers liveness and readiness', async () => {
    await t.http.get('/health').expect(200);
    const ready = await t.http.get('/health/ready').expect(200);
    expect(ready.body.info.database.status).toBe('up');
  });
});
