import { randomBytes } from 'node:crypto';
import { useApp } from '../support/lifecycle';
import { providerEnv } from '../support/sandbox';
import { casesWithRedis } from '../support/redis';

describe.each(
  casesWithRedis([
    ['in memory', {}],
    ['in Redis', { REDIS_URL: 'redis://127.0.0.1:6379' }],
  ]),
)('rate limit, headers and CORS (%s)', (_name, extra) => {
  const { t, sb } = useApp(
    (port) => ({
      ...providerEnv(sb, port),
      CREATE_ORDER_RATE_LIMIT: '3',
      CORS_ORIGINS: 'https://app.example.com',
      ...extra,
    }),
    { sandbox: true },
  );

  const create = (user: string) =>
    t.http
      .post('/api/v1/payment/create-order')
      .set('Authorization', `Bearer ${t.token(user)}`)
      .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat' });

  it('limits create-order per user with a 429 in the error format', async () => {
    const user = `rl-${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 3; i++) await create(user).expect(201);
    const limited = await create(user).expect(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
    await create(`${user}-other`).expect(201); // another user has a budget of their own
  });

  it('sends helmet headers and allows only the configured origins', async () => {
    const res = await t.http.get('/api/v1/membership/plans').set('Origin', 'https://app.example.com').expect(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await t.http.get('/api/v1/membership/plans').set('Origin', 'https://evil.example.com').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it("answers the providers' callbacks in their own format, with nosniff but without the browser headers", async () => {
    const alipay = await t.http.post('/api/v1/payment/alipay/callback').type('form').send('trade_status=TRADE_SUCCESS').expect(400);
    expect(alipay.text).toBe('failure');
    expect(alipay.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(alipay.headers['x-content-type-options']).toBe('nosniff');
    expect(alipay.headers['content-security-policy']).toBeUndefined();
    expect(alipay.headers['etag']).toBeUndefined();
    const wechat = await t.http.post('/api/v1/payment/wechat/callback').send({ id: 'forged' }).expect(400);
    expect(wechat.body).toMatchObject({ code: 'FAIL' });
    expect(wechat.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(wechat.headers['strict-transport-security']).toBeUndefined();
    // The API keeps them.
    const plans = await t.http.get('/api/v1/membership/plans').expect(200);
    expect(plans.headers['content-security-policy']).toBeDefined();
  });
});
