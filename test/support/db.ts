import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { withDatabase } from './pg-url';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh database for one test file, cloned from the migrated template of global-setup. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.MEMBERPAY_TEST_ADMIN_URL!;
  const name = `memberpay_t_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${process.env.MEMBERPAY_TEST_TEMPLATE}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A direct connection for assertions on rows (tests read the database, they never write around the service). */
export async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}
