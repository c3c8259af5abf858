import { membershipOf } from '../support/orders';
import { useApp } from '../support/lifecycle';
import { paidOrder, refundRow, requestRefund } from '../support/refunds';
import { providerEnv } from '../support/sandbox';
import { connectClient } from '../support/ws-client';

const PREMIUM_MONTHLY = 4;

describe('entitlements (service API)', () => {
  const { t, sb } = useApp((port) => providerEnv(sb, port, { wechat: true }), { sandbox: true });

  const service = () => `Bearer ${t.serviceToken('content-service')}`;
  /** The entitlement, and the instants between which the service answered. */
  const read = async (user: string) => {
    const before = Date.now();
    const res = await t.http.get(`/api/v1/entitlements/${user}`).set('Authorization', service()).expect(200);
    return { body: res.body, before, after: Date.now() };
  };
  const me = (user: string) => membershipOf(t, user);
  const refundInFull = async (orderNo: string) => {
    const res = await requestRefund(t, orderNo, { reason: 'test' }).expect(202);
    expect((await refundRow(t, res.body.refund_no)).status).toBe('success');
  };

  /** Whatever the state, an answer agrees with its own periods at the instant it was asked. */
  const expectConsistent = ({ body, before, after }: Awaited<ReturnType<typeof read>>) => {
    for (const p of body.periods) expect(Date.parse(p.ends_at)).toBeGreaterThan(before);
    if (body.active) {
      expect(Date.parse(body.periods[0].starts_at)).toBeLessThanOrEqual(after);
      expect(body.level).toBe(body.periods[0].level);
      expect(body.plan_code).toBe(body.periods[0].plan_code);
      expect(Date.parse(body.expires_at)).toBeGreaterThan(before);
    } else {
      expect(body.level).toBeNull();
      expect(body.plan_code).toBeNull();
      if (body.expires_at !== null) expect(Date.parse(body.expires_at)).toBeLessThanOrEqual(after);
    }
  };

  it('follows the ledger across an upgrade and refunds', async () => {
    const user = 'ent-1';
    const never = await read(user);
    expect(never.body).toEqual({
      user_id: user,
      active: false,
      level: null,
      plan_code: null,
      expires_at: null,
      in_grace: false,
      grace_ends_at: null,
      auto_renew: false,
      periods: [],
    });

    const basic = await paidOrder(t, sb, user);
    const afterBasic = await read(user);
    expectConsistent(afterBasic);
    expect(afterBasic.body).toMatchObject({ active: true, level: 1, plan_code: 'basic_monthly', expires_at: (await me(user)).expires_at });

    const upgrade = await paidOrder(t, sb, user, 'wechat', { product_id: PREMIUM_MONTHLY, is_upgrade: true });
    const afterUpgrade = await read(user);
    expectConsistent(afterUpgrade);
    expect(afterUpgrade.body).toMatchObject({ active: true, level: 2, plan_code: 'premium_monthly' });
    expect(afterUpgrade.body.expires_at).toBe((await me(user)).expires_at);
    expect(afterUpgrade.body.periods).toEqual((await me(user)).periods);

    await refundInFull(upgrade.order_no);
    const afterRefund = await read(user);
    expectConsistent(afterRefund);
    expect(afterRefund.body).toMatchObject({ active: true, level: 1, plan_code: 'basic_monthly', expires_at: afterBasic.body.expires_at });

    await refundInFull(basic.order_no);
    const none = await read(user);
    expectConsistent(none);
    expect(none.body).toMatchObject({ active: false, level: null, expires_at: null, periods: [] });
  });

  it('answers several members at once, in the order asked', async () => {
    await paidOrder(t, sb, 'ent-batch-1');
    const res = await t.http.get('/api/v1/entitlements?user_ids=ent-nobody,ent-batch-1').set('Authorization', service()).expect(200);
    expect(res.body.data.map((e: any) => [e.user_id, e.active, e.level])).toEqual([
      ['ent-nobody', false, null],
      ['ent-batch-1', true, 1],
    ]);
  });

  it.each([
    ['no user_ids', ''],
    ['an empty user id', '?user_ids=a,,b'],
    ['a malformed user id', '?user_ids=a,b%20c'],
    ['101 user ids', `?user_ids=${Array.from({ length: 101 }, (_, i) => `u${i}`).join(',')}`],
  ])('refuses %s with a 400', async (_name, query) => {
    const res = await t.http.get(`/api/v1/entitlements${query}`).set('Authorization', service());
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });

  describe('tokens of the wrong role', () => {
    it.each([
      ['a member', () => t.token('ent-1')],
      ['an admin', () => t.adminToken('admin-1')],
    ])('refuses %s on the entitlements routes with a 403', async (_name, token) => {
      for (const path of ['/api/v1/entitlements/ent-1', '/api/v1/entitlements?user_ids=ent-1']) {
        const res = await t.http.get(path).set('Authorization', `Bearer ${token()}`);
        expect(res.status).toBe(403);
        expect(res.body.code).toBe('FORBIDDEN');
      }
    });

    it('refuses no token with a 401', async () => {
      expect((await t.http.get('/api/v1/entitlements/ent-1')).status).toBe(401);
    });

    it.each([
      ['GET', '/api/v1/membership/me'],
      ['GET', '/api/v1/payment/orders'],
      ['POST', '/api/v1/payment/create-order'],
      ['GET', '/api/v1/admin/orders'],
      ['GET', '/api/v1/admin/webhook-endpoints'],
    ])('refuses a service token on %s %s with a 403', async (method, path) => {
      const res = await (method === 'GET' ? t.http.get(path) : t.http.post(path).send({}))
        .set('Authorization', service())
        .set('Content-Type', 'application/json');
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    });

    it('refuses a service token at the WebSocket handshake', async () => {
      const error = await connectClient(t.url, { token: t.serviceToken('content-service') }).then(
        (c) => {
          c.close();
          return null;
        },
        (e: Error & { data?: { code: string } }) => e,
      );
      expect(error?.data).toEqual({ code: 'FORBIDDEN' });
    });
  });
});
