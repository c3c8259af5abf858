import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The provider's fee on each reconciled bill line (WeChat Pay 手续费, Alipay 服务费), for finance's
 * export. Kept exact in 1/1000 fen with the decimals the bill wrote it with: WeChat Pay writes five
 * decimals of yuan, which integer fen would round (src/common/money.ts, BillFee). Items compared
 * before stay without a fee until their day is reconciled again.
 */
export class ReconciliationFees1764057601301 implements MigrationInterface {
  name = 'ReconciliationFees1764057601301';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "reconciliation_items" ADD "provider_fee_milli_fen" bigint`);
    await q.query(`ALTER TABLE "reconciliation_items" ADD "provider_fee_decimals" smallint`);
    await q.query(
      `ALTER TABLE "reconciliation_items" ADD CONSTRAINT "CHK_reconciliation_items_fee"
         CHECK (("provider_fee_milli_fen" IS NULL) = ("provider_fee_decimals" IS NULL) AND "provider_fee_decimals" BETWEEN 0 AND 5)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "reconciliation_items" DROP CONSTRAINT "CHK_reconciliation_items_fee"`);
    await q.query(`ALTER TABLE "reconciliation_items" DROP COLUMN "provider_fee_decimals"`);
    await q.query(`ALTER TABLE "reconciliation_items" DROP COLUMN "provider_fee_milli_fen"`);
  }
}
