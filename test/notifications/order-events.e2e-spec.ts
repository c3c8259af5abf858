import { JwtService } from '@nestjs/jwt';
import { TokenService } from '../../src/auth/token.service';
import { useApp } from '../support/lifecycle';
import { providerEnv } from '../support/sandbox';
import { connectClient, EventClient, eventFor } from '../support/ws-client';
import { createOrder as createOrderFor, payAtSandbox } from '../support/orders';

describe('order events over socket.io', () => {
  const clients: EventClient[] = [];
  const { t, sb } = useApp((port) => providerEnv(sb, port, { wechat: true }), { sandbox: true });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  const connect = async (user: string, options: { lastEventId?: string } = {}) => {
    const client = await connectClient(t.url, { token: t.token(user), ...options });
    clients.push(client);
    return client;
  };
  const createOrder = (user: string) => createOrderFor(t, user);
  const pay = async (qr: string) => expect((await payAtSandbox(sb, qr)).body.delivered).toBe(true);
  const paidOrder = async (user: string) => {
    const order = await createOrder(user);
    await pay(order.qr_code_url);
    return order.order_no;
  };
  const outbox = async (user: string) =>
    (
      await t.db.query(
        'SELECT e.id, e.type, o.order_no FROM order_events e JOIN orders o ON o.id = e.order_id WHERE e.user_id = $1 ORDER BY e.id',
        [user],
      )
    ).rows;

  describe('the handshake', () => {
    const refusal = async (options: Parameters<typeof connectClient>[1]) => {
      const error = await connectClient(t.url, options).then(
        () => null,
        (e: Error & { data?: { code: string } }) => e,
      );
      expect(error).not.toBeNull();
      return error!;
    };

    it.each([
      ['no token', () => ({})],
      ['a malformed token', () => ({ token: 'not-a-jwt' })],
      [
        'a token signed with another secret',
        () => ({ token: new JwtService({ secret: 'another-secret-0123456789-0123456789' }).sign({ sub: 'u-1' }) }),
      ],
      ['an expired token', () => ({ token: t.app.get(TokenService).sign('u-1', -60) })],
    ])('refuses %s with a connect_error', async (_name, options) => {
      const error = await refusal(options());
      expect(error.data).toEqual({ code: 'UNAUTHENTICATED' });
      expect(error.message).toMatch(/token/);
    });

    it('refuses a lastEventId that is not an event id', async () => {
      const error = await refusal({ token: t.token('u-1'), lastEventId: 'latest' });
      expect(error.data).toEqual({ code: 'VALIDATION_FAILED' });
    });

    it('accepts the token as a query parameter', async () => {
      const client = await connectClient(t.url, { query: { token: t.token('query-user') } });
      clients.push(client);
      const orderNo = await paidOrder('query-user');
      await client.waitFor(eventFor('order.paid', orderNo));
    });
  });

  it("sends order.paid to the order's owner with the documented payload, and nothing to anybody else", async () => {
    const owner = await connect('owner-1');
    const other = await connect('other-1');
    const orderNo = await paidOrder('owner-1');

    const { message } = await owner.waitFor(eventFor('order.paid', orderNo));
    const [row] = (
      await t.db.query(
        `SELECT e.id, o.paid_at, p.starts_at, p.ends_at FROM order_events e JOIN orders o ON o.id = e.order_id
       JOIN membership_periods p ON p.order_id = o.id WHERE o.order_no = $1`,
        [orderNo],
      )
    ).rows;
    expect(message).toEqual({
      id: String(row.id),
      type: 'order.paid',
      order_no: orderNo,
      amount: 1990,
      currency: 'CNY',
      paid_at: row.paid_at.toISOString(),
      membership: {
        level: 1,
        expires_at: row.ends_at.toISOString(),
        periods: [
          {
            level: 1,
            plan_code: 'basic_monthly',
            starts_at: row.starts_at.toISOString(),
            ends_at: row.ends_at.toISOString(),
            order_no: orderNo,
          },
        ],
      },
    });

    // The other user's own payment is the barrier: had the first event reached them, it would have come first.
    const theirs = await paidOrder('other-1');
    await other.waitFor(eventFor('order.paid', theirs));
    expect(other.received.map((r) => r.message.order_no)).toEqual([theirs]);
    expect(owner.received.map((r) => r.message.order_no)).toEqual([orderNo]);
  });

  it('catches a reconnecting client up on what it missed, once and in order, then goes live', async () => {
    const user = 'reconnect-1';
    const first = await connect(user);
    const seen = await first.waitFor(eventFor('order.paid', await paidOrder(user)));
    first.close();

    // While it is away: a payment, a cancellation, and another user's payment in between.
    const missedPaid = await paidOrder(user);
    await paidOrder('bystander-1');
    const cancelled = await createOrder(user);
    await t.http
      .post(`/api/v1/payment/orders/${cancelled.order_no}/cancel`)
      .set({ Authorization: `Bearer ${t.token(user)}` })
      .expect(200);

    const back = await connect(user, { lastEventId: seen.message.id });
    await back.waitFor(eventFor('order.closed', cancelled.order_no));
    const live = await paidOrder(user);
    await back.waitFor(eventFor('order.paid', live));

    const stored = await outbox(user);
    expect(back.received.map((r) => [r.message.id, r.event, r.message.order_no])).toEqual(
      stored.slice(1).map((e: { id: string; type: string; order_no: string }) => [e.id, e.type, e.order_no]),
    );
    expect(back.received.map((r) => r.message.order_no)).toEqual([missedPaid, cancelled.order_no, live]);
    expect(back.received[1].message).toMatchObject({ status: 'closed', at: expect.any(String) });
  });

  it('closes a connection when its token expires, and a fresh token with lastEventId misses nothing', async () => {
    const user = 'expiring-1';
    const tokens = t.app.get(TokenService);
    // exp has one-second precision: this token expires one to two seconds from now.
    const short = await connectClient(t.url, { token: tokens.sign(user, 2) });
    clients.push(short);
    const closed = new Promise<string>((resolve) => short.socket.once('disconnect', resolve));
    const seen = await short.waitFor(eventFor('order.paid', await paidOrder(user)));

    const notice = await short.waitFor((r) => r.event === 'session.expired', 5000);
    expect(notice.message).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/expired/) });
    expect(await closed).toBe('io server disconnect');

    const missed = await paidOrder(user);
    const back = await connect(user, { lastEventId: seen.message.id });
    await back.waitFor(eventFor('order.paid', missed));
    expect(back.received.map((r) => r.message.order_no)).toEqual([missed]);
  });

  it('replays nothing without a lastEventId, and only the last 24 hours with one', async () => {
    const user = 'window-1';
    const old = await paidOrder(user);
    const recent = await paidOrder(user);
    await t.db.query(
      `UPDATE order_events SET created_at = now() - interval '25 hours'
       WHERE order_id = (SELECT id FROM orders WHERE order_no = $1)`,
      [old],
    );

    const fresh = await connect(user);
    const caughtUp = await connect(user, { lastEventId: '0' });
    await caughtUp.waitFor(eventFor('order.paid', recent));
    const live = await paidOrder(user);
    await fresh.waitFor(eventFor('order.paid', live));
    await caughtUp.waitFor(eventFor('order.paid', live));
    expect(fresh.received.map((r) => r.message.order_no)).toEqual([live]);
    expect(caughtUp.received.map((r) => r.message.order_no)).toEqual([recent, live]);
  });

  it('delivers to every connection of the owner, and counts connections and deliveries in /metrics', async () => {
    const metric = async (line: RegExp) => Number(line.exec((await t.http.get('/metrics').expect(200)).text)?.[1] ?? 0);
    const delivered = /^memberpay_websocket_events_delivered_total\{type="order.paid"\} (\d+)$/m;
    const open = /^memberpay_websocket_connections (\d+)$/m;
    const deliveredBefore = await metric(delivered);
    const phone = await connect('two-devices');
    const laptop = await connect('two-devices');
    const orderNo = await paidOrder('two-devices');
    await phone.waitFor(eventFor('order.paid', orderNo));
    await laptop.waitFor(eventFor('order.paid', orderNo));
    expect(await metric(delivered)).toBe(deliveredBefore + 2);
    // Earlier tests' clients may still be closing, so only a lower bound is certain.
    expect(await metric(open)).toBeGreaterThanOrEqual(2);
  });
});
