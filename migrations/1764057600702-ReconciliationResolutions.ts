import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every resolution of a reconciliation item, oldest first (resolved_at, resolved_by and
 * resolution_note stay the latest): resolving an item again adds to its history instead of
 * overwriting it. Items resolved before keep their one resolution.
 */
export class ReconciliationResolutions1764057600702 implements MigrationInterface {
  name = 'ReconciliationResolutions1764057600702';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "reconciliation_items" ADD "resolutions" jsonb NOT NULL DEFAULT '[]'`);
    await q.query(
      `UPDATE "reconciliation_items" SET "resolutions" = jsonb_build_array(jsonb_build_object(
         'resolved_at', "resolved_at", 'resolved_by', "resolved_by", 'note', "resolution_note"))
       WHERE "resolved_at" IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "reconciliation_items" DROP COLUMN "resolutions"`);
  }
}
