import { MigrationInterface, QueryRunner } from 'typeorm';

/** An order's product must stay: a plan with orders can be deactivated, never deleted. */
export class OrderProductForeignKey1764057600004 implements MigrationInterface {
  name = 'OrderProductForeignKey1764057600004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" ADD CONSTRAINT "FK_orders_product" FOREIGN KEY ("product_id")
      REFERENCES "membership_plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "FK_orders_product"`);
  }
}
