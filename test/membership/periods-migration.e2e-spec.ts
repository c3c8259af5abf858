import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { MembershipPeriods1764057600100 } from '../../migrations/1764057600100-MembershipPeriods';
import { typeormOptions } from '../../src/database/typeorm-options';
import { withDatabase } from '../support/pg-url';

const DAY = 86_400_000;

/**
 * The migration to periods on a database with memberships in it: each membership becomes one
 * period carried by its latest grant's order (or by an order-less opening grant), and back.
 */
describe('migrating memberships to periods', () => {
  const adminUrl = process.env.MEMBERPAY_TEST_ADMIN_URL!;
  const name = `memberpay_m_${randomBytes(5).toString('hex')}`;
  const url = withDatabase(adminUrl, name);
  let db: Client;
  const dataSource = (migrations: unknown[]) =>
    new DataSource({ ...typeormOptions(url, { poolSize: 1 }), migrations: migrations as never[] });

  beforeAll(async () => {
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    await admin.end();
    db = new Client({ connectionString: url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it("turns each membership into one period, with its latest grant's order, and reverts", async () => {
    const before = MIGRATIONS.slice(0, MIGRATIONS.indexOf(MembershipPeriods1764057600100));
    const old = await dataSource(before).initialize();
    await old.runMigrations();
    await old.destroy();

    // One reading of the clock: two would put the span a millisecond off 60 days when it ticks between them.
    const now = Date.now();
    const started = new Date(now - 10 * DAY);
    const expires = new Date(now + 50 * DAY);
    const order = async (no: string, user: string) =>
      (
        await db.query(
          `INSERT INTO orders (order_no, user_id, product_type, product_id, amount, description, status, payment_method, expire_at, paid_at)
       VALUES ($1, $2, 'membership', 1, 1990, 'Basic, monthly membership', 'paid', 'wechat', now(), now()) RETURNING id`,
          [no, user],
        )
      ).rows[0].id as string;
    const first = await order('MOLEGACY1', 'legacy-1');
    const second = await order('MOLEGACY2', 'legacy-1');
    await db.query(
      `INSERT INTO membership_grants (order_id, user_id, plan_id, new_level, new_expires_at, created_at)
                    VALUES ($1, 'legacy-1', 1, 1, $3, now() - interval '10 days'), ($2, 'legacy-1', 1, 1, $4, now())`,
      [first, second, new Date(expires.getTime() - 30 * DAY), expires],
    );
    await db.query(
      `INSERT INTO user_memberships (user_id, plan_id, level, started_at, expires_at)
                    VALUES ('legacy-1', 1, 1, $1, $2), ('no-grant-1', 4, 2, $1, $2)`,
      [started, expires],
    );

    const current = await dataSource(MIGRATIONS).initialize();
    try {
      await current.runMigrations();
      const { rows: periods } = await db.query(
        `SELECT p.user_id, p.level, p.starts_at, p.ends_at, o.order_no FROM membership_periods p LEFT JOIN orders o ON o.id = p.order_id ORDER BY p.user_id`,
      );
      expect(periods).toEqual([
        { user_id: 'legacy-1', level: 1, starts_at: started, ends_at: expires, order_no: 'MOLEGACY2' },
        { user_id: 'no-grant-1', level: 2, starts_at: started, ends_at: expires, order_no: null },
      ]);
      // Every paid order keeps its one grant; the older one carries no days.
      const { rows: grants } = await db.query(
        `SELECT order_id IS NULL AS orderless, kind, duration_ms FROM membership_grants ORDER BY granted_at, order_id`,
      );
      expect(grants).toEqual(
        expect.arrayContaining([
          { orderless: false, kind: 'opening', duration_ms: '0' },
          { orderless: false, kind: 'opening', duration_ms: String(60 * DAY) },
          { orderless: true, kind: 'opening', duration_ms: String(60 * DAY) },
        ]),
      );
      expect(grants).toHaveLength(3);

      // Down to just before the ledger (later migrations first).
      const applied = async () => (await db.query(`SELECT name FROM migrations`)).rows.map((r) => r.name as string);
      while ((await applied()).includes('MembershipPeriods1764057600100')) await current.undoLastMigration();
      const { rows: back } = await db.query(`SELECT user_id, level, started_at, expires_at FROM user_memberships ORDER BY user_id`);
      expect(back).toEqual([
        { user_id: 'legacy-1', level: 1, started_at: started, expires_at: expires },
        { user_id: 'no-grant-1', level: 2, started_at: started, expires_at: expires },
      ]);
      expect((await db.query(`SELECT count(*)::int AS n FROM membership_grants`)).rows[0].n).toBe(2);
      await current.runMigrations();
      expect((await db.query(`SELECT count(*)::int AS n FROM membership_periods`)).rows[0].n).toBe(2);
    } finally {
      await current.destroy();
    }
  });
});
