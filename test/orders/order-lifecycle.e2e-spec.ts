import type { Client } from 'pg';
import { canMove, ORDER_TRANSITIONS } from '../../src/orders/order-lifecycle';
import { ORDER_STATUSES } from '../../src/orders/order-status';
import { connect, createTestDatabase, TestDatabase } from '../support/db';

/**
 * The declared lifecycle and the database's trigger are one rule: every pair of statuses is tried
 * on a real row, and exactly the declared moves go through; every other is refused, whatever
 * statement asks for it.
 */
describe('order lifecycle', () => {
  let db: TestDatabase;
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    client = await connect(db.url);
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  it('declares a move for every status, and only to known statuses', () => {
    expect(Object.keys(ORDER_TRANSITIONS).sort()).toEqual([...ORDER_STATUSES].sort());
    for (const targets of Object.values(ORDER_TRANSITIONS)) for (const t of targets) expect(ORDER_STATUSES).toContain(t);
  });

  const pairs = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.filter((to) => to !== from).map((to) => [from, to] as const));

  it.each(pairs)('%s → %s goes through exactly when the lifecycle allows it', async (from, to) => {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query(
        `INSERT INTO orders (order_no, user_id, product_type, product_id, amount, description, status, payment_method, expire_at, paid_at)
         VALUES ($1, 'lifecycle', 'membership', 1, 1990, 'lifecycle', $2, 'wechat', now(), now()) RETURNING id`,
        [`MOLIFE${from.slice(0, 6)}${to.slice(0, 6)}`, from],
      );
      await client.query('SAVEPOINT move');
      let moved: boolean;
      try {
        await client.query(`UPDATE orders SET status = $2 WHERE id = $1`, [rows[0].id, to]);
        moved = true;
      } catch (e) {
        expect((e as { code?: string }).code).toBe('23514'); // check_violation, from orders_status_transition
        moved = false;
      }
      expect(moved).toBe(canMove(from, to));
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
