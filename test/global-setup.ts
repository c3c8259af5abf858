import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { typeormOptions } from '../src/database/typeorm-options';
import { withDatabase } from './support/pg-url';
import { checkRedisForRun } from './support/redis';

/**
 * Once per test run: a PostgreSQL (the machine's, when DATABASE_URL is set, else an embedded
 * one), and a template database migrated with the same migrations ops run. Each test file
 * clones its own database from the template, so files run in parallel.
 */
export default async function globalSetup(): Promise<void> {
  await checkRedisForRun();
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = withDatabase(process.env.DATABASE_URL, 'postgres');
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'memberpay-test-pg-'));
    const pg = await startEmbeddedPostgres(dir, () => undefined);
    (globalThis as any).__MEMBERPAY_PG__ = { pg, dir };
    adminUrl = pg.url;
  }
  const template = `memberpay_tpl_${process.pid}_${Date.now()}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${template}"`);
  await admin.end();
  const ds = await new DataSource(typeormOptions(withDatabase(adminUrl, template), { poolSize: 1 })).initialize();
  await ds.runMigrations();
  await ds.destroy();
  process.env.MEMBERPAY_TEST_ADMIN_URL = adminUrl;
  process.env.MEMBERPAY_TEST_TEMPLATE = template;
  delete process.env.DATABASE_URL; // test files get their own database URL, never the shared one
}
