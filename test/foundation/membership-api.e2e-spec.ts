import { createHmac } from 'node:crypto';
import { TEST_JWT_SECRET } from '../support/app';
import { useApp } from '../support/lifecycle';

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function jwt(header: object, payload: object, secret = TEST_JWT_SECRET, alg = 'sha256'): string {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac(alg, secret).update(head).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

describe('membership API, auth and the error format', () => {
  const { t } = useApp();

  it('lists the active plans publicly, prices in fen', async () => {
    const res = await t.http.get('/api/v1/membership/plans').expect(200);
    expect(res.body).toHaveLength(6);
    expect(res.body[0]).toEqual({
      id: 1,
      code: 'basic_monthly',
      name: 'Basic, monthly',
      name_zh: '基础会员·月度',
      level: 1,
      duration_days: 30,
      price: 1990,
      // No provider is configured here, so no plan can be bought with auto-renewal.
      auto_renew: false,
      auto_renew_methods: [],
      auto_renew_upgrade_methods: [],
      renewal_amount: null,
    });
    expect(new Set(res.body.map((p: { level: number }) => p.level))).toEqual(new Set([1, 2]));
  });

  it('leaves inactive plans out', async () => {
    await t.db.query(`UPDATE membership_plans SET active = false WHERE code = 'premium_yearly'`);
    try {
      const res = await t.http.get('/api/v1/membership/plans').expect(200);
      expect(res.body.map((p: { code: string }) => p.code)).not.toContain('premium_yearly');
    } finally {
      await t.db.query(`UPDATE membership_plans SET active = true WHERE code = 'premium_yearly'`);
    }
  });

  it("reads the caller's membership with a valid token", async () => {
    const res = await t.http
      .get('/api/v1/membership/me')
      .set('Authorization', `Bearer ${t.token('42')}`)
      .expect(200);
    expect(res.body).toMatchObject({ user_id: '42', active: false, level: null, expires_at: null });
  });

  it.each([
    ['no header', undefined],
    ['a malformed header', 'Bearer'],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['garbage', 'Bearer not.a.jwt'],
    ['an expired token', `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { sub: '42', exp: now() - 60 })}`],
    ['an unsigned token (alg none)', `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '42', exp: now() + 60 })}.`],
    ['another algorithm (HS512)', `Bearer ${jwt({ alg: 'HS512', typ: 'JWT' }, { sub: '42', exp: now() + 60 }, TEST_JWT_SECRET, 'sha512')}`],
    ['another secret', `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { sub: '42', exp: now() + 60 }, 'x'.repeat(40))}`],
    ['no subject', `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { exp: now() + 60 })}`],
  ])('answers 401 in the error format for %s', async (_name, header) => {
    const req = t.http.get('/api/v1/membership/me');
    if (header) req.set('Authorization', header);
    const res = await req.expect(401);
    expect(res.body).toEqual({ statusCode: 401, code: 'UNAUTHENTICATED', message: expect.any(String), requestId: expect.any(String) });
    expect(res.headers['x-request-id']).toBe(res.body.requestId);
  });

  it('answers unknown routes with 404 in the error format', async () => {
    const res = await t.http.get('/api/v1/nothing-here').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });

  it('gives the message in the language the client prefers (Chinese or English), the code unchanged', async () => {
    const auth = { Authorization: `Bearer ${t.token('u-lang')}` };
    const missing = (language?: string) =>
      t.http.get('/api/v1/payment/orders/MO00000000000000000000').set({ ...auth, ...(language ? { 'Accept-Language': language } : {}) });
    const zh = await missing('zh-CN,zh;q=0.9,en;q=0.8').expect(404);
    expect(zh.body).toMatchObject({ statusCode: 404, code: 'ORDER_NOT_FOUND', message: '未找到该订单' });
    expect(zh.headers.vary).toMatch(/Accept-Language/i);
    expect((await missing('en-US,en;q=0.9,zh;q=0.5').expect(404)).body.message).toBe('No such order was found');
    expect((await missing().expect(404)).body.message).toBe('No such order was found');
    const unauthenticated = await t.http.get('/api/v1/membership/me').set('Accept-Language', 'zh').expect(401);
    expect(unauthenticated.body).toMatchObject({ code: 'UNAUTHENTICATED', message: '需要登录令牌' });
    const invalid = await t.http
      .post('/api/v1/payment/create-order')
      .set({ ...auth, 'Accept-Language': 'zh-TW' })
      .send({ product_type: 'membership', product_id: 'one', payment_method: 'wechat' })
      .expect(400);
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
    expect(invalid.body.message).toEqual(expect.arrayContaining([expect.stringMatching(/^请求无效：product_id /)]));
  });

  it('answers malformed JSON with 400, no stack trace', async () => {
    const res = await t.http.post('/api/v1/membership/plans').set('Content-Type', 'application/json').send('{"product_id": 1,').expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'MALFORMED_REQUEST', message: 'The request body is not valid JSON' });
    expect(JSON.stringify(res.body)).not.toMatch(/at .*\.js|SyntaxError/);
  });

  it('answers a body over the limit with 413', async () => {
    const res = await t.http
      .post('/api/v1/membership/plans')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ x: 'a'.repeat(200_000) }))
      .expect(413);
    expect(res.body.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('keeps a well-formed X-Request-Id and replaces a hostile one', async () => {
    const kept = await t.http.get('/nope').set('X-Request-Id', 'abc-123').expect(404);
    expect(kept.body.requestId).toBe('abc-123');
    const replaced = await t.http.get('/nope').set('X-Request-Id', '<script>').expect(404);
    expect(replaced.body.requestId).not.toContain('<');
  });

  it('reports health with the database', async () => {
    const res = await t.http.get('/health').expect(200);
    expect(res.body.info.database.status).toBe('up');
  });
});
