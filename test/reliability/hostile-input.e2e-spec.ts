import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { TestApp, TEST_JWT_SECRET } from '../support/app';
import { useApp } from '../support/lifecycle';
import { providerEnv, sandboxCall } from '../support/sandbox';

/** Row counts of every table a request could change. */
async function snapshot(t: TestApp): Promise<Record<string, number>> {
  const tables = ['orders', 'payment_records', 'membership_grants', 'membership_periods', 'order_events', 'idempotency_keys'];
  const out: Record<string, number> = {};
  for (const table of tables) out[table] = Number((await t.db.query(`SELECT count(*) FROM ${table}`)).rows[0].count);
  out.paid = Number((await t.db.query(`SELECT count(*) FROM orders WHERE status = 'paid'`)).rows[0].count);
  return out;
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const hs = (header: object, payload: object, alg = 'sha256') => {
  const head = `${b64(header)}.${b64(payload)}`;
  return `${head}.${createHmac(alg, TEST_JWT_SECRET).update(head).digest('base64url')}`;
};

describe('hostile input', () => {
  const { t, sb } = useApp((port) => ({ ...providerEnv(sb, port), CREATE_ORDER_RATE_LIMIT: '10000' }), { sandbox: true });

  const bearer = (user = 'hostile') => `Bearer ${t.token(user)}`;
  const good = { product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false };

  /** Sends a request that must be refused: a 4xx in the error format, and nothing changed. */
  async function refused(send: () => Promise<{ status: number; body: any; headers: Record<string, any> }>) {
    const before = await snapshot(t);
    const res = await send();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    if (String(res.headers['content-type']).includes('json')) {
      expect(res.body).toEqual({
        statusCode: res.status,
        code: expect.any(String),
        message: expect.anything(),
        requestId: expect.any(String),
      });
    }
    expect(JSON.stringify(res.body ?? '')).not.toMatch(/\n\s+at |node_modules|QueryFailedError/);
    expect(await snapshot(t)).toEqual(before);
    return res;
  }
  const create = (body: unknown, type = 'application/json', headers: Record<string, string> = {}) =>
    refused(() =>
      t.http
        .post('/api/v1/payment/create-order')
        .set({ Authorization: bearer(), 'Content-Type': type, ...headers })
        .send(typeof body === 'string' ? body : JSON.stringify(body)),
    );

  it.each([
    ['malformed JSON', '{"product_id": 1,'],
    ['a JSON array', '[1,2,3]'],
    ['a JSON string', '"membership"'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('refuses %s', (_n, body) => create(body));

  it.each([
    ['text/plain', JSON.stringify(good)],
    ['application/x-www-form-urlencoded', 'product_type=membership&product_id=1&payment_method=wechat'],
    ['application/xml', '<order><product_id>1</product_id></order>'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="product_id"\r\n\r\n1\r\n--x--'],
  ])('refuses the content type %s', (type, body) => create(body, type));

  it('refuses a body over the limit', () => create({ ...good, description: 'x'.repeat(100_000) }));

  it.each([
    ['a negative id', { product_id: -1 }],
    ['zero', { product_id: 0 }],
    ['a fractional id', { product_id: 1.5 }],
    ['a huge id', { product_id: 1e20 }],
    ['an id past int4', { product_id: 2 ** 31 }],
    ['NaN as a string', { product_id: 'NaN' }],
    ['an id as a string', { product_id: '1' }],
    ['an object id', { product_id: { $gt: 0 } }],
    ['an array id', { product_id: [1] }],
    ['an SQL injection', { payment_method: "wechat'; DROP TABLE orders; --" }],
    ['a script injection', { product_type: '<script>alert(1)</script>' }],
    ['control characters', { payment_method: 'wechat\u0000\u001b[31m' }],
    ['unicode look-alikes', { payment_method: 'ｗｅｃｈａｔ' }],
    ['a very long string', { payment_method: 'w'.repeat(10_000) }],
    ['an unknown field', { amount: 1 }],
    ['a forged amount', { amount: -100 }],
    ['a prototype pollution attempt', JSON.parse('{"__proto__": {"admin": true}, "product_type": "membership"}')],
  ])('refuses %s', (_n, patch) => create({ ...good, ...patch }));

  it('refuses a missing product and an upgrade from nothing without creating anything', async () => {
    await create({ ...good, product_id: 999 });
    await create({ ...good, product_id: 4, is_upgrade: true });
  });

  it.each([
    ['no token', undefined],
    ['an expired token', `Bearer ${hs({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', exp: 1 })}`],
    ['alg none', `Bearer ${b64({ alg: 'none' })}.${b64({ sub: 'x', exp: 4102444800 })}.`],
    ['HS384', `Bearer ${hs({ alg: 'HS384', typ: 'JWT' }, { sub: 'x', exp: 4102444800 }, 'sha384')}`],
    ['a subject with control characters', `Bearer ${hs({ alg: 'HS256', typ: 'JWT' }, { sub: 'a\nb', exp: 4102444800 })}`],
    ['a very long header', `Bearer ${'a'.repeat(6000)}`],
  ])('refuses %s', (_n, authorization) =>
    refused(() => {
      const req = t.http.post('/api/v1/payment/create-order').set('Content-Type', 'application/json');
      if (authorization) req.set('Authorization', authorization);
      return req.send(JSON.stringify(good));
    }),
  );

  it('refuses duplicated Idempotency-Key headers', () =>
    refused(() =>
      t.http
        .post('/api/v1/payment/create-order')
        .set('Authorization', bearer())
        .set('Idempotency-Key', ['a', 'b'] as unknown as string)
        .send(good),
    )); // sent as two header lines

  it.each(['', 'x'.repeat(300), 'bad key with spaces', 'tab\tkey'])('refuses the Idempotency-Key %j', (key) =>
    refused(() => t.http.post('/api/v1/payment/create-order').set('Authorization', bearer()).set('Idempotency-Key', key).send(good)),
  );

  it("hides another user's order and refuses to touch it", async () => {
    const own = await t.http.post('/api/v1/payment/create-order').set('Authorization', bearer('victim')).send(good).expect(201);
    for (const path of [`/orders/${own.body.order_no}`])
      await refused(() => t.http.get(`/api/v1/payment${path}`).set('Authorization', bearer('attacker')));
    await refused(() => t.http.post(`/api/v1/payment/orders/${own.body.order_no}/cancel`).set('Authorization', bearer('attacker')));
    await refused(() => t.http.post(`/api/v1/payment/orders/${own.body.order_no}/qr-code`).set('Authorization', bearer('attacker')));
  });

  it.each(["' OR '1'='1", '../../etc/passwd', '%00', 'x'.repeat(500), '<img src=x>'])('answers the order number %j with 404', (no) =>
    refused(() => t.http.get(`/api/v1/payment/orders/${encodeURIComponent(no)}`).set('Authorization', bearer())),
  );

  it.each(['limit=abc', 'limit=-1', 'limit=1000', "starting_after=' OR 1=1 --", 'limit=1&limit=2'])('refuses the list query %s', (q) =>
    refused(() => t.http.get(`/api/v1/payment/orders?${q}`).set('Authorization', bearer())),
  );

  it('refuses a replayed notification older than five minutes', async () => {
    const order = await t.http.post('/api/v1/payment/create-order').set('Authorization', bearer('replay')).send(good).expect(201);
    const { body } = await sandboxCall(sb, 'POST', '/sandbox/pay', {
      qr: order.body.qr_code_url,
      delivery: 'none',
      tamper: 'stale-timestamp',
    });
    const before = await snapshot(t);
    const res = await fetch(`${t.url}/api/v1/payment/wechat/callback`, {
      method: 'POST',
      headers: body.notification.headers,
      body: body.notification.body,
    });
    expect(res.status).toBe(400);
    expect(await snapshot(t)).toEqual(before);
  });

  describe('property-based', () => {
    const jsonValue = fc.jsonValue({ maxDepth: 3 });
    const body = fc.oneof(
      fc.record(
        {
          product_type: fc.oneof(fc.constant('membership'), fc.string()),
          product_id: fc.oneof(fc.integer(), fc.double(), fc.string(), jsonValue),
          payment_method: fc.oneof(fc.constantFrom('wechat', 'alipay', ''), fc.string()),
          is_upgrade: fc.oneof(fc.boolean(), jsonValue),
        },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.string(), jsonValue),
      jsonValue,
    );

    it('create-order: whatever the body, no 5xx, and only a 201 changes anything (one order)', async () => {
      await fc.assert(
        fc.asyncProperty(body, async (input) => {
          const before = await snapshot(t);
          const res = await t.http
            .post('/api/v1/payment/create-order')
            .set('Authorization', bearer('prop'))
            .set('Content-Type', 'application/json')
            .send(JSON.stringify(input));
          expect(res.status).toBeLessThan(500);
          const after = await snapshot(t);
          if (res.status === 201) expect(after.orders).toBe(before.orders + 1);
          else expect(after).toEqual(before);
        }),
        { numRuns: 150 },
      );
    });

    const header = fc.option(fc.string({ maxLength: 60 }), { nil: undefined });
    it.each(['wechat', 'alipay'])('%s callback: whatever the bytes and headers, a 4xx and nothing changed', async (provider) => {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.string(),
            fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString('latin1')),
            jsonValue.map((v) => JSON.stringify(v)),
            fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })).map((d) => new URLSearchParams(d).toString()),
          ),
          header,
          header,
          header,
          header,
          async (payload, ts, nonce, serial, sig) => {
            const before = await snapshot(t);
            const headers: Record<string, string> = {
              'content-type': provider === 'wechat' ? 'application/json' : 'application/x-www-form-urlencoded',
            };
            for (const [k, v] of [
              ['wechatpay-timestamp', ts],
              ['wechatpay-nonce', nonce],
              ['wechatpay-serial', serial],
              ['wechatpay-signature', sig],
            ]) {
              if (v !== undefined && /^[\x20-\x7e]*$/.test(v)) headers[k!] = v;
            }
            const res = await fetch(`${t.url}/api/v1/payment/${provider}/callback`, { method: 'POST', headers, body: payload });
            expect(res.status).toBeGreaterThanOrEqual(400);
            expect(res.status).toBeLessThan(500);
            expect(await snapshot(t)).toEqual(before);
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});
