import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Buying with auto-renewal: an order says it signs a contract (orders.auto_renew), and the contract
 * names the order it was signed with (contracts.first_order_id, at most one contract per order), so
 * that the order's end releases a contract never signed, and a contract signed without its first
 * period paid (Alipay signs first) can have that period charged.
 */
export class ContractFirstOrder1764057601150 implements MigrationInterface {
  name = 'ContractFirstOrder1764057601150';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" ADD "auto_renew" boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE "contracts" ADD "first_order_id" uuid`);
    await q.query(
      `ALTER TABLE "contracts" ADD CONSTRAINT "FK_contracts_first_order" FOREIGN KEY ("first_order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await q.query(`CREATE UNIQUE INDEX "UQ_contracts_first_order" ON "contracts" ("first_order_id") WHERE "first_order_id" IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "UQ_contracts_first_order"`);
    await q.query(`ALTER TABLE "contracts" DROP CONSTRAINT "FK_contracts_first_order"`);
    await q.query(`ALTER TABLE "contracts" DROP COLUMN "first_order_id"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "auto_renew"`);
  }
}
