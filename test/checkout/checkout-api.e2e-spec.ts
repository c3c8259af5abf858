import { useApp } from '../support/lifecycle';
import { createOrder } from '../support/orders';
import { providerEnv } from '../support/sandbox';

// The server side of the checkout page: its files, the page configuration, the development-only
// demo token, and the QR code drawn on the answers that hand one out.

/** Width and height from a PNG data URL's IHDR chunk. */
function pngSize(dataUrl: string): { width: number; height: number } {
  const match = /^data:image\/png;base64,(.+)$/.exec(dataUrl);
  expect(match).not.toBeNull();
  const png = Buffer.from(match![1], 'base64');
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('checkout page: server side (development, sandbox)', () => {
  const auth = (user: string) => ({ Authorization: `Bearer ${t.token(user)}` });

  const { t, sb } = useApp((port) => providerEnv(sb, port), { sandbox: true });

  it("serves the page at / with its own content security policy, its files and socket.io's client from the installed package", async () => {
    const page = await t.http.get('/').expect(200).expect('content-type', /html/);
    expect(page.text).toContain('/checkout/app.js');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    await t.http
      .get('/checkout/app.js')
      .expect(200)
      .expect('content-type', /javascript/);
    await t.http.get('/checkout/styles.css').expect(200).expect('content-type', /css/);
    await t.http.get('/checkout/marks/wechat.svg').expect(200).expect('content-type', /svg/);
    const client = await t.http
      .get('/checkout/vendor/socket.io/socket.io.min.js')
      .expect(200)
      .expect('content-type', /javascript/);
    expect(client.text).toContain('socket.io');
  });

  it('answers a missing page file in the error format', async () => {
    const res = await t.http.get('/checkout/nothing-here.js').expect(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'NOT_FOUND', requestId: expect.any(String) });
  });

  it("tells the page it runs against the sandbox, with the sandbox's pay page taken from the provider configuration", async () => {
    const { body } = await t.http.get('/api/v1/checkout/config').expect(200);
    expect(body).toEqual({
      sandbox: true,
      demo_token: true,
      payment_methods: ['wechat', 'alipay'],
      channels: { wechat: ['qr', 'app', 'jsapi', 'h5'], alipay: ['qr', 'app', 'wap', 'page'] },
      sandbox_pay_page: { wechat: `${sb.url}/sandbox/pay`, alipay: `${sb.url}/sandbox/pay` },
      sandbox_sign_page: { wechat: `${sb.url}/sandbox/contracts/sign`, alipay: `${sb.url}/sandbox/contracts/sign` },
    });
    const order = await createOrder(t, 'page-link', { payment_method: 'alipay' });
    const payPage = await fetch(`${body.sandbox_pay_page.alipay}?qr=${encodeURIComponent(order.qr_code_url)}`);
    expect(payPage.status).toBe(200);
    expect(await payPage.text()).toContain(order.qr_code_url.replace(/&/g, '&amp;').slice(0, 20));
  });

  it('issues a short-lived token for the demo member in development', async () => {
    const { body } = await t.http.post('/api/v1/checkout/demo-token').expect(200);
    expect(body.user_id).toBe('demo');
    const lifetime = Date.parse(body.expires_at) - Date.now();
    expect(lifetime).toBeGreaterThan(50 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
    const me = await t.http.get('/api/v1/membership/me').set('Authorization', `Bearer ${body.token}`).expect(200);
    expect(me.body.user_id).toBe('demo');
  });

  it('draws the QR code when asked (?include=qr_code_image): on create-order, its replay and a new QR code, never on plain reads', async () => {
    const body = { product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false };
    const create = '/api/v1/payment/create-order?include=qr_code_image';
    const created = await t.http.post(create).set(auth('qr-image')).set('Idempotency-Key', 'qr-image-1').send(body).expect(201);
    expect(pngSize(created.body.qr_code_image)).toEqual({ width: 264, height: 264 });
    const replay = await t.http.post(create).set(auth('qr-image')).set('Idempotency-Key', 'qr-image-1').send(body).expect(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body.qr_code_image).toBe(created.body.qr_code_image);
    // The same replay without the option: the same order, without the image.
    const plainReplay = await t.http
      .post('/api/v1/payment/create-order')
      .set(auth('qr-image'))
      .set('Idempotency-Key', 'qr-image-1')
      .send(body)
      .expect(201);
    expect(plainReplay.body.order_no).toBe(created.body.order_no);
    expect(plainReplay.body).not.toHaveProperty('qr_code_image');

    const orderNo = created.body.order_no as string;
    const fresh = await t.http.post(`/api/v1/payment/orders/${orderNo}/qr-code?include=qr_code_image`).set(auth('qr-image')).expect(200);
    expect(fresh.body.qr_code_url).not.toBe(created.body.qr_code_url);
    expect(fresh.body.qr_code_image).not.toBe(created.body.qr_code_image);
    pngSize(fresh.body.qr_code_image);
    const plainFresh = await t.http.post(`/api/v1/payment/orders/${orderNo}/qr-code`).set(auth('qr-image')).expect(200);
    expect(plainFresh.body).not.toHaveProperty('qr_code_image');

    const read = await t.http.get(`/api/v1/payment/orders/${orderNo}`).set(auth('qr-image')).expect(200);
    expect(read.body).not.toHaveProperty('qr_code_image');
    const cancelled = await t.http.post(`/api/v1/payment/orders/${orderNo}/cancel`).set(auth('qr-image')).expect(200);
    expect(cancelled.body).not.toHaveProperty('qr_code_image');
  });

  it('answers create-order without the image unless asked, and refuses an unknown include before creating anything', async () => {
    const plain = await createOrder(t, 'qr-plain');
    expect(plain).not.toHaveProperty('qr_code_image');
    const body = { product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false };
    for (const query of ['include=everything', 'include=qr_code_image&include=qr_code_image']) {
      const refused = await t.http.post(`/api/v1/payment/create-order?${query}`).set(auth('qr-refused')).send(body).expect(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED', message: ['include must be "qr_code_image" when given'] });
    }
    const { rows } = await t.db.query("SELECT count(*)::int AS n FROM orders WHERE user_id = 'qr-refused'");
    expect(rows[0].n).toBe(0);
  });

  it("documents qr_code_image and the page's routes in OpenAPI", async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const created = doc.paths['/api/v1/payment/create-order'].post.responses['201'].content['application/json'].schema.$ref as string;
    const schema = doc.components.schemas[created.split('/').pop()!];
    const properties =
      schema.properties ?? Object.assign({}, ...(schema.allOf ?? []).map((s: { properties?: object }) => s.properties ?? {}));
    expect(properties.qr_code_image).toMatchObject({ type: 'string', nullable: true });
    expect(properties.qr_code_image.description).toMatch(/data URL/);
    const include = doc.paths['/api/v1/payment/create-order'].post.parameters.find((p: { name: string }) => p.name === 'include');
    expect(include).toMatchObject({ in: 'query', required: false, schema: { enum: ['qr_code_image'] } });
    expect(doc.paths['/api/v1/payment/orders/{order_no}/qr-code'].post.responses['200'].content['application/json'].schema.$ref).toBe(
      created,
    );
    expect(doc.paths['/api/v1/checkout/config'].get).toBeDefined();
    expect(doc.paths['/api/v1/checkout/demo-token'].post.responses['403']).toBeDefined();
  });
});

describe('checkout page: server side (production)', () => {
  const { t } = useApp({
    NODE_ENV: 'production',
    ALLOW_EMBEDDED_DB_IN_PRODUCTION: '1',
    JWT_ISSUER: 'https://users.example.com',
    JWT_AUDIENCE: 'memberpay',
  });

  it('refuses the demo token in the error format, and the page is told so', async () => {
    const res = await t.http.post('/api/v1/checkout/demo-token').expect(403);
    expect(res.body).toMatchObject({ statusCode: 403, code: 'FORBIDDEN', requestId: expect.any(String) });
    expect(res.body.message).toMatch(/only in development/);
    expect(res.body).not.toHaveProperty('token');
    const { body } = await t.http.get('/api/v1/checkout/config').expect(200);
    expect(body).toEqual({
      sandbox: false,
      demo_token: false,
      payment_methods: [],
      channels: { wechat: [], alipay: [] },
      sandbox_pay_page: { wechat: null, alipay: null },
      sandbox_sign_page: { wechat: null, alipay: null },
    });
    await t.http.get('/').expect(200).expect('content-type', /html/);
  });
});

describe('checkout page: server side (tokens shorter than an hour)', () => {
  const { t } = useApp({ JWT_MAX_TTL_SECONDS: '600' });

  it('issues a demo token no longer than tokens may live, which the service accepts', async () => {
    const { body } = await t.http.post('/api/v1/checkout/demo-token').expect(200);
    expect(Date.parse(body.expires_at) - Date.now()).toBeLessThanOrEqual(600_000);
    await t.http.get('/api/v1/membership/me').set('Authorization', `Bearer ${body.token}`).expect(200);
  });
});
