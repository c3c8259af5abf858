import { DataSource } from 'typeorm';
import { OutboxRepository } from '../../src/outbox/outbox.repository';
import { useApp } from '../support/lifecycle';

/**
 * What the webhooks' fan-out compares a member's new membership with: their latest snapshot before
 * the batch, whatever came before it and whatever events without a snapshot came after it.
 */
describe("the outbox: a member's membership before a batch", () => {
  const { t } = useApp();

  it('is the latest snapshot before the given event, not an earlier one; members without one are absent', async () => {
    const { rows } = await t.db.query(
      `INSERT INTO orders (order_no, user_id, product_type, product_id, amount, description, status, payment_method, expire_at)
       VALUES ('MOOUTBOXBEFORE1', 'outbox-before', 'membership', 1, 1990, 'outbox', 'closed', 'wechat', now()) RETURNING id`,
    );
    const event = async (user: string, payload: Record<string, unknown>) =>
      (
        await t.db.query(
          `INSERT INTO order_events (order_id, user_id, type, payload) VALUES ($1, $2, 'order.closed', $3) RETURNING id::text`,
          [rows[0].id, user, payload],
        )
      ).rows[0].id as string;
    const first = { level: 1, expires_at: '2027-01-01T00:00:00.000Z', periods: [] };
    const second = { level: 1, expires_at: '2027-02-01T00:00:00.000Z', periods: [] };
    await event('outbox-before', { membership: first });
    const secondId = await event('outbox-before', { membership: second });
    await event('outbox-before', { order_no: 'MOOUTBOXBEFORE1' });
    const batchStart = await event('outbox-before', { membership: { ...second, level: 2 } });
    const otherStart = await event('outbox-nobody-before', { membership: first });

    const outbox = t.app.get(OutboxRepository);
    const m = t.app.get(DataSource).manager;
    const before = await outbox.membershipBefore(
      m,
      new Map([
        ['outbox-before', batchStart],
        ['outbox-nobody-before', otherStart],
      ]),
    );
    expect(Object.fromEntries(before)).toEqual({ 'outbox-before': second });
    // Before the second snapshot, only the first was there.
    expect(Object.fromEntries(await outbox.membershipBefore(m, new Map([['outbox-before', secondId]])))).toEqual({
      'outbox-before': first,
    });
  });
});
