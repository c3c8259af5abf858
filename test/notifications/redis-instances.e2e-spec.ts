import { randomBytes } from 'node:crypto';
import { startTestApp, TestApp } from '../support/app';
import { withInvariants } from '../support/lifecycle';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { connectClient, EventClient, eventFor } from '../support/ws-client';
import { describeWithRedis } from '../support/redis';

/** Two instances of the service on one database and the machine's Redis, on channels of this run only. */
describeWithRedis('order events across instances through Redis', () => {
  const redisUrl = `redis://127.0.0.1:6379/0?keyPrefix=memberpay-test-${randomBytes(6).toString('hex')}:`;
  let sb: Sandbox;
  let a: TestApp;
  let b: TestApp;
  const clients: EventClient[] = [];
  beforeAll(async () => {
    sb = await startTestSandbox();
    a = await startTestApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), REDIS_URL: redisUrl }));
    b = await startTestApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), REDIS_URL: redisUrl }), { sharedDatabase: a.database });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await sb?.close();
  });
  withInvariants(() => a?.db);

  const connect = async (on: TestApp, user: string, lastEventId?: string) => {
    const client = await connectClient(on.url, { token: on.token(user), lastEventId });
    clients.push(client);
    return client;
  };
  /** Created through `via`, so the provider notifies that instance. */
  const paidOrderVia = async (via: TestApp, user: string) => {
    const order = (
      await via.http
        .post('/api/v1/payment/create-order')
        .set({ Authorization: `Bearer ${via.token(user)}` })
        .send({ product_type: 'membership', product_id: 1, payment_method: 'wechat', is_upgrade: false })
        .expect(201)
    ).body;
    expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url })).body.delivered).toBe(true);
    return order.order_no as string;
  };

  it('tells a client on one instance about a payment notified to the other, once per connection', async () => {
    const onA = await connect(a, 'cross-1');
    const onB = await connect(b, 'cross-1');
    const otherOnA = await connect(a, 'cross-other');

    const viaB = await paidOrderVia(b, 'cross-1');
    const viaA = await paidOrderVia(a, 'cross-1');
    const viaBAgain = await paidOrderVia(b, 'cross-1');
    for (const client of [onA, onB]) {
      await client.waitFor(eventFor('order.paid', viaBAgain));
      expect(client.received.map((r) => r.message.order_no)).toEqual([viaB, viaA, viaBAgain]);
    }
    const theirs = await paidOrderVia(b, 'cross-other');
    await otherOnA.waitFor(eventFor('order.paid', theirs));
    expect(otherOnA.received.map((r) => r.message.order_no)).toEqual([theirs]);
  });

  it('catches up a client that reconnects to the other instance', async () => {
    const first = await connect(a, 'cross-2');
    const seen = await first.waitFor(eventFor('order.paid', await paidOrderVia(a, 'cross-2')));
    first.close();
    const missed = await paidOrderVia(a, 'cross-2');
    const back = await connect(b, 'cross-2', seen.message.id);
    await back.waitFor(eventFor('order.paid', missed));
    const live = await paidOrderVia(a, 'cross-2');
    await back.waitFor(eventFor('order.paid', live));
    expect(back.received.map((r) => r.message.order_no)).toEqual([missed, live]);
  });
});
