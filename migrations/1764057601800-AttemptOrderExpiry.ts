import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each checkout attempt carries when its order expires, so payments' jobs tell an attempt the QR
 * expiry closes from one the order's expiry closes without reading the orders table. A deduction
 * has no close and keeps NULL.
 */
export class AttemptOrderExpiry1764057601800 implements MigrationInterface {
  name = 'AttemptOrderExpiry1764057601800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_records" ADD "order_expire_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(
      `UPDATE "payment_records" r SET "order_expire_at" = o."expire_at" FROM "orders" o WHERE o."id" = r."order_id" AND r."contract_id" IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_records" DROP COLUMN "order_expire_at"`);
  }
}
