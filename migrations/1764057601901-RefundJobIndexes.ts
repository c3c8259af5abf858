import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The refund job looks, every run, for double payments not yet returned, upgrades with time they
 * could not convert, and orders owed an upgrade's shortfall. Each of those is rare, and each was
 * found by reading every row of its table (every successful payment, every grant, every order):
 * with years of orders, a hundred milliseconds of PostgreSQL per run, measured. A partial index
 * holds only the rows each looks for, in the order it takes them.
 */
export class RefundJobIndexes1764057601901 implements MigrationInterface {
  name = 'RefundJobIndexes1764057601901';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "IDX_payment_records_double_payments" ON "payment_records" ("paid_at") WHERE "double_payment" AND "status" = 'success'`,
    );
    await q.query(
      `CREATE INDEX "IDX_membership_grants_unconverted" ON "membership_grants" ("granted_at")
        WHERE "kind" = 'upgrade' AND "revoked_at" IS NULL AND "upgrade_quoted_ms" - "withdrawn_ms" - COALESCE("converted_ms", 0) > 0`,
    );
    await q.query(
      `CREATE INDEX "IDX_orders_shortfall_owed" ON "orders" ("paid_at") WHERE "upgrade_shortfall" > "upgrade_shortfall_refunding"`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_orders_shortfall_owed"`);
    await q.query(`DROP INDEX "IDX_membership_grants_unconverted"`);
    await q.query(`DROP INDEX "IDX_payment_records_double_payments"`);
  }
}
