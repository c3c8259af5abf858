import { createHmac } from 'node:crypto';
import { webhookEventsOf } from './webhook-event-types';
import { retryDelayMs, RETRY_STEPS, retryWindowMs } from './webhook-schedule';
import { signatureHeader } from './webhook-signature';
import { isBlockedAddress, WebhookUrlPolicy } from './webhook-url-policy';

describe('the retry schedule', () => {
  it('is about 1 min, 5 min, 30 min, 2 h, 8 h, then daily, with ±20 % jitter, for 3 days', () => {
    const minute = 60_000;
    const exact = (failures: number) => retryDelayMs(failures, minute, () => 0.5);
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(exact)).toEqual([1, 5, 30, 120, 480, 1440, 1440, 1440].map((m) => m * minute));
    expect(retryDelayMs(1, minute, () => 0)).toBe(0.8 * minute);
    expect(retryDelayMs(1, minute, () => 1)).toBe(1.2 * minute);
    expect(retryWindowMs(minute)).toBe(3 * 24 * 3_600_000);
    expect(RETRY_STEPS).toHaveLength(6);
  });
});

describe('the signature', () => {
  it('is t and one v1 per secret: HMAC-SHA256 of "<t>.<body>" keyed with the whole secret string', () => {
    const body = '{"id":"1"}';
    const v1 = (s: string) => createHmac('sha256', s).update(`1700000000.${body}`).digest('hex');
    expect(signatureHeader(['whsec_new'], body, 1700000000)).toBe(`t=1700000000,v1=${v1('whsec_new')}`);
    expect(signatureHeader(['whsec_new', 'whsec_old'], body, 1700000000)).toBe(`t=1700000000,v1=${v1('whsec_new')},v1=${v1('whsec_old')}`);
  });
});

describe('webhook events of an outbox row', () => {
  const createdAt = new Date('2026-12-01T00:00:00.000Z');
  const membership = {
    level: 1,
    expires_at: '2026-12-31T00:00:00.000Z',
    periods: [
      { level: 1, plan_code: 'basic_monthly', starts_at: '2026-12-01T00:00:00.010Z', ends_at: '2026-12-31T00:00:00.000Z', order_no: 'MO1' },
    ],
  };

  it('gives order.paid under the outbox id and membership.changed under a suffixed one, in one shape', () => {
    const events = webhookEventsOf({
      id: '17',
      type: 'order.paid',
      userId: '42',
      createdAt,
      payload: { order_no: 'MO1', amount: 1990, membership },
    });
    expect(events.map((e) => [e.id, e.type])).toEqual([
      ['17', 'order.paid'],
      ['17:membership.changed', 'membership.changed'],
    ]);
    for (const e of events) expect(Object.keys(JSON.parse(e.body))).toEqual(['id', 'type', 'created_at', 'data']);
    // The grant's period starts a moment after the row's transaction began: it counts as running.
    expect(JSON.parse(events[1].body).data).toMatchObject({
      active: true,
      level: 1,
      plan_code: 'basic_monthly',
      expires_at: membership.expires_at,
    });
  });

  it("announces a membership change only when the ledger changed since the member's previous snapshot", () => {
    const row = {
      id: '18',
      type: 'order.refunded',
      userId: '42',
      createdAt,
      payload: { order_no: 'MO1', status: 'partially_refunded', membership },
    };
    // Support kept the days: the snapshot is the one before.
    expect(webhookEventsOf(row, { membership }).map((e) => e.type)).toEqual(['order.refunded']);
    // Days taken back: the expiry moved.
    const before = {
      ...membership,
      expires_at: '2027-01-30T00:00:00.000Z',
      periods: [{ ...membership.periods[0], ends_at: '2027-01-30T00:00:00.000Z' }],
    };
    expect(webhookEventsOf(row, { membership: before }).map((e) => e.type)).toEqual(['order.refunded', 'membership.changed']);
    expect(webhookEventsOf({ ...row, payload: { ...row.payload, status: 'refunded' } }).map((e) => e.type)).toEqual([
      'order.refunded',
      'membership.changed',
    ]);
  });
});

describe('the URL policy', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '::1',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:10.0.0.1',
  ])('blocks %s', (address) => expect(isBlockedAddress(address)).toBe(true));
  it.each(['8.8.8.8', '203.0.113.9', '2001:4860:4860::8888'])('lets %s through', (address) =>
    expect(isBlockedAddress(address)).toBe(false),
  );

  it('wants https in production, and allows a receiver beside npm start elsewhere', () => {
    const production = new WebhookUrlPolicy(true);
    expect(production.problem('http://hooks.example.com/x')).toBe('url must be https');
    expect(production.problem('https://hooks.example.com/x')).toBeNull();
    expect(production.problem('https://localhost/x')).not.toBeNull();
    expect(new WebhookUrlPolicy(false).problem('http://127.0.0.1:9000/x')).toBeNull();
  });
});
