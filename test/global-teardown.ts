import { Client } from 'pg';

export default async function globalTeardown(): Promise<void> {
  const admin = new Client({ connectionString: process.env.MEMBERPAY_TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${process.env.MEMBERPAY_TEST_TEMPLATE}" WITH (FORCE)`);
  await admin.end();
  await (globalThis as any).__MEMBERPAY_PG__?.stop();
}
