import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { preparedQueryIn } from '../../src/database/prepared-query';
import { typeormOptions } from '../../src/database/typeorm-options';
import { connect, createTestDatabase, TestDatabase } from '../support/db';

/**
 * A statement of a transaction whose connection is gone must fail with it. Run on the pool instead,
 * it would commit by itself while the rest of the transaction rolls back: an order marked paid with
 * no grant, as a terminated connection once made.
 */
describe('prepared statements inside a transaction', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource(typeormOptions(db.url, { poolSize: 2 })).initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('refuses to run on a released query runner, and nothing of the transaction commits', async () => {
    await ds.query(`CREATE TABLE prepared_probe (id int)`);
    const pool = (ds.driver as PostgresDriver).master as Pool;
    let hog: PoolClient | undefined;
    const outcome = ds.transaction(async (m) => {
      await m.query(`INSERT INTO prepared_probe VALUES (0)`);
      // The runner lets go of its connection mid-transaction (as when that connection ends), and the
      // pool hands that connection to somebody else: a statement sent "on the pool" now would get a
      // connection of its own and commit by itself.
      await m.queryRunner!.release();
      hog = await pool.connect();
      await preparedQueryIn(m, 'probe-insert', `INSERT INTO prepared_probe VALUES (1)`, []);
    });
    await expect(outcome).rejects.toThrow();
    hog?.release(true); // its transaction was never committed: the connection is closed with it
    const client = await connect(db.url);
    try {
      expect((await client.query(`SELECT count(*)::int AS n FROM prepared_probe`)).rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  it('runs on the pool for a manager outside any transaction', async () => {
    expect(await preparedQueryIn<{ one: number }>(ds.manager, 'probe-one', 'SELECT 1 AS one', [])).toEqual([{ one: 1 }]);
  });
});
