import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When an upgrade was quoted (under the member's lock, strictly after every grant its quote saw):
 * the days it converts are those granted before then. created_at stays the order's creation as the
 * request made it; upgrades quoted before this column were quoted as of created_at, which settlement
 * falls back to.
 */
export class OrdersUpgradeQuotedAt1764057601402 implements MigrationInterface {
  name = 'OrdersUpgradeQuotedAt1764057601402';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" ADD "upgrade_quoted_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" DROP COLUMN "upgrade_quoted_at"`);
  }
}
