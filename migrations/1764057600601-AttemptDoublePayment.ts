import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An attempt that paid an order another attempt had paid already says so itself
 * (`double_payment`), so the refunds that return such payments are found from the attempts alone.
 * Existing double payments are marked from their orders.
 */
export class AttemptDoublePayment1764057600601 implements MigrationInterface {
  name = 'AttemptDoublePayment1764057600601';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_records" ADD "double_payment" boolean NOT NULL DEFAULT false`);
    await q.query(
      `UPDATE "payment_records" r SET "double_payment" = true FROM "orders" o
        WHERE o."id" = r."order_id" AND r."status" = 'success' AND o."payment_no" IS NOT NULL AND o."payment_no" <> r."payment_no"`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_records" DROP COLUMN "double_payment"`);
  }
}
