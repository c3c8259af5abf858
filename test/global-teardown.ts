import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Client } from 'pg';
import { removeOrphanedStandIns } from '../src/database/embedded-postgres';

export default async function globalTeardown(): Promise<void> {
  const admin = new Client({ connectionString: process.env.MEMBERPAY_TEST_ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${process.env.MEMBERPAY_TEST_TEMPLATE}" WITH (FORCE)`);
  await admin.end();
  const embedded = (globalThis as any).__MEMBERPAY_PG__;
  if (embedded) {
    await embedded.pg.stop();
    rmSync(dirname(embedded.pg.pgData), { recursive: true, force: true });
    rmSync(embedded.dir, { recursive: true, force: true });
  }
  // The embedded databases of the services the tests started, whose DATA_DIRs are gone by now.
  removeOrphanedStandIns();
}
