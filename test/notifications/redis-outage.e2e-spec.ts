import type Redis from 'ioredis';
import { startTestApp, TestApp } from '../support/app';
import { useApp } from '../support/lifecycle';
import { OwnRedisServer } from '../support/redis-server';
import { providerEnv, sandboxCall } from '../support/sandbox';
import { TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/webhook-receiver';
import { connectClient, EventClient, eventFor } from '../support/ws-client';

/**
 * Two instances on one database and a Redis server of this spec's own, which it stops and starts.
 * Each instance reaches Redis through a TCP proxy of its own, so that the spec can decide who
 * comes back first: after an outage, the instance that committed an event while Redis was down
 * sends its queued message as soon as it reconnects, and an instance not yet subscribed again
 * never hears it (pub/sub keeps nothing). The proxies only order the reconnections; the outage is
 * Redis really stopped.
 */
describe('order events across instances while Redis is stopped', () => {
  const redis = new OwnRedisServer();
  let toRedisFromA: TcpProxy;
  let toRedisFromB: TcpProxy;
  let b: TestApp | undefined;
  const taps: Redis[] = [];
  const clients: EventClient[] = [];
  beforeAll(async () => {
    await redis.start();
    toRedisFromA = await new TcpProxy('127.0.0.1', redis.port).start();
    toRedisFromB = await new TcpProxy('127.0.0.1', redis.port).start();
  });
  // Declared before useApp's: B closes before A drops the database they share.
  afterAll(async () => {
    await b?.close();
  });
  const { t: a, sb } = useApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), REDIS_URL: toRedisFromA.url(redis.url) }), {
    sandbox: true,
  });
  beforeAll(async () => {
    b = await startTestApp((port) => ({ ...providerEnv(sb, port, { wechat: true }), REDIS_URL: toRedisFromB.url(redis.url) }), {
      sharedDatabase: a.database,
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const c of taps.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await toRedisFromA?.stop();
    await toRedisFromB?.stop();
    await redis.stop();
  });

  /** Created through `via`, so the provider notifies that instance, which commits and publishes the event. */
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
  /** Every message published on Redis from now on (the server has just started). */
  const listen = async () => {
    const tap = redis.client();
    taps.push(tap);
    const heard: string[] = [];
    tap.on('pmessage', (_pattern: string, _channel: string, message: string) => heard.push(message));
    await tap.psubscribe('*');
    return heard;
  };
  /** The socket.io adapter's subscribers on Redis (one per instance subscribed). */
  const subscribers = async () => {
    const client = redis.client();
    taps.push(client);
    const [, n] = (await client.pubsub('NUMSUB', 'socket.io-request#/#')) as [string, number];
    client.disconnect();
    return Number(n);
  };

  it('a member connected to B hears order.paid committed on A while Redis was stopped, once, and live events after', async () => {
    const member = await connectClient(b!.url, { token: b!.token('outage-1') });
    clients.push(member);
    const before = await paidOrderVia(a, 'outage-1');
    await member.waitFor(eventFor('order.paid', before), 30_000);

    // Redis goes away; both instances lose it, and stay away (proxies refusing) once it is back.
    toRedisFromA.cut();
    toRedisFromB.cut();
    await redis.stop();
    const during = await paidOrderVia(a, 'outage-1'); // committed on A; its message waits in A's client

    await redis.start();
    const heard = await listen();
    // A comes back first and sends what it queued; B, not subscribed yet, misses it on Redis.
    toRedisFromA.restore();
    await until(() => heard.some((m) => m.includes(during)), "A's queued message for the order paid during the outage", 60_000);
    toRedisFromB.restore();
    await until(async () => (await subscribers()) === 2, 'both instances subscribed again', 60_000);

    await member.waitFor(eventFor('order.paid', during), 30_000);
    const after = await paidOrderVia(a, 'outage-1');
    await member.waitFor(eventFor('order.paid', after), 30_000);
    expect(member.received.filter((r) => r.event === 'order.paid').map((r) => r.message.order_no)).toEqual([before, during, after]);
  });

  it('a member who connected to B during the outage hears what A committed meanwhile, once', async () => {
    toRedisFromA.cut();
    toRedisFromB.cut();
    await redis.stop();
    // Connected while B cannot hear A, without a lastEventId: it is owed what is committed from now on, once.
    const member = await connectClient(b!.url, { token: b!.token('outage-2') });
    clients.push(member);
    const during = await paidOrderVia(a, 'outage-2');

    await redis.start();
    const heard = await listen();
    toRedisFromA.restore();
    await until(() => heard.some((m) => m.includes(during)), "A's queued message for the order paid during the outage", 60_000);
    toRedisFromB.restore();
    await until(async () => (await subscribers()) === 2, 'both instances subscribed again', 60_000);

    await member.waitFor(eventFor('order.paid', during), 30_000);
    expect(member.received.map((r) => r.message.order_no)).toEqual([during]);
  });
});
