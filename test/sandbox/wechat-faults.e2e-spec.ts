// Answer-level faults of the WeChat Pay emulation (sandbox/README.md#fault-modes, docs/wechat-pay.md#notification-signatures), seen through the
// real wechatpay-axios-plugin: forged or spoiled answers must be rejected by the SDK.
import { startSandbox, type Sandbox } from '../../sandbox';
import { failure, http, tradeNo, wechatClient } from './support';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.001 });
});
afterAll(() => sb.close());
afterEach(() => http('DELETE', `${sb.url}/sandbox/faults`));

const fault = (body: Record<string, unknown>) => http('POST', `${sb.url}/sandbox/faults`, { provider: 'wechat', ...body });
const order = (no: string) => ({
  appid: sb.credentials.wechat.appId,
  mchid: sb.credentials.wechat.mchId,
  description: 'Fault test',
  out_trade_no: no,
  notify_url: 'https://memberpay.example/cb',
  amount: { total: 100 },
});
const exists = async (no: string) => (await http('GET', `${sb.url}/sandbox/trades/${no}`)).status === 200;

it.each([
  ['error-500', 500, 'SYSTEM_ERROR', false],
  ['rate-limit', 429, 'FREQUENCY_LIMITED', false],
  ['system-error-after-commit', 500, 'SYSTEM_ERROR', true],
])('%s answers %i %s (order created: %s)', async (mode, status, code, committed) => {
  await fault({ op: 'native', mode, times: 1 });
  const no = tradeNo();
  const err = await failure(wechatClient(sb).v3.pay.transactions.native.post<any>(order(no)));
  expect(err.response.status).toBe(status);
  expect(err.response.data.code).toBe(code);
  expect(await exists(no)).toBe(committed);
});

it.each([
  ['bad-signature', 'EV3_RES_HEADER_SIGNATURE_DIGEST'],
  ['probe', 'EV3_RES_HEADER_SIGNATURE_DIGEST'],
  ['unsigned', 'EV3_RES_HEADERS_INCOMPLATE'],
  ['stale-timestamp', 'EV3_RES_HEADER_TIMESTAMP_OFFSET'],
  ['unknown-serial', 'EV3_RES_HEADER_PLATFORM_SERIAL'],
])('%s: the SDK rejects the forged answer (%s), though the order was created', async (mode, sdkCode) => {
  await fault({ op: 'native', mode, times: 1 });
  const no = tradeNo();
  const err = await failure(wechatClient(sb).v3.pay.transactions.native.post<any>(order(no)));
  expect(err.code).toBe(sdkCode);
  expect(await exists(no)).toBe(true);
  if (mode === 'probe') expect(err.response.headers['wechatpay-signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
});

it('garbage: a correctly signed 200 whose body is not JSON', async () => {
  await fault({ op: 'native', mode: 'garbage', times: 1 });
  const no = tradeNo();
  const res = await wechatClient(sb).v3.pay.transactions.native.post<any>(order(no));
  expect(res.status).toBe(200);
  expect(typeof res.data).toBe('string');
  expect(() => JSON.parse(res.data)).toThrow();
  expect(await exists(no)).toBe(false);
});

it('hang: never answers, so the client times out; close() ends the request', async () => {
  await fault({ op: 'native', mode: 'hang', times: 1 });
  const started = Date.now();
  const err = await failure(wechatClient(sb, 'public-key', { timeout: 300 }).v3.pay.transactions.native.post<any>(order(tradeNo())));
  expect(err.code).toBe('ECONNABORTED');
  expect(Date.now() - started).toBeGreaterThanOrEqual(290);
});

it('applies a fault only to its operation and only `times` times', async () => {
  await fault({ op: 'query', mode: 'error-500', times: 2 });
  const client = wechatClient(sb);
  const no = tradeNo();
  expect((await client.v3.pay.transactions.native.post<any>(order(no))).status).toBe(200);
  const query = () =>
    client.v3.pay.transactions.outTradeNo.$out_trade_no$.get({ params: { mchid: sb.credentials.wechat.mchId }, out_trade_no: no });
  expect((await failure(query())).response.status).toBe(500);
  expect((await failure(query())).response.status).toBe(500);
  expect((await query()).data.trade_state).toBe('NOTPAY');
});

it('keeps a fault without `times` until DELETE /sandbox/faults', async () => {
  await fault({ mode: 'rate-limit' });
  const client = wechatClient(sb);
  for (let i = 0; i < 3; i += 1) {
    expect((await failure(client.v3.pay.transactions.native.post<any>(order(tradeNo())))).response.status).toBe(429);
  }
  expect((await http('GET', `${sb.url}/sandbox/faults`)).json.faults).toHaveLength(1);
  await http('DELETE', `${sb.url}/sandbox/faults`);
  expect((await client.v3.pay.transactions.native.post<any>(order(tradeNo()))).status).toBe(200);
});

it('validates fault requests', async () => {
  expect((await fault({ mode: 'explode' })).status).toBe(400);
  expect((await fault({ op: 'precreate', mode: 'error-500' })).status).toBe(400);
  expect((await fault({ mode: 'hang', times: 0 })).status).toBe(400);
  expect((await http('POST', `${sb.url}/sandbox/faults`, { provider: 'alipay', mode: 'probe' })).status).toBe(400);
});
