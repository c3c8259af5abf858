import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An upgrade's shortfall is priced on what it converted: what it was paid for its time, less what
 * the time it converts is worth (each span at its own daily difference). Each reckoning adds what
 * is newly owed, so the grant keeps the fen owed so far (`shortfall_fen`, carried over from the
 * order's `upgrade_shortfall`, so nothing already owed is owed twice) and the fen of its price that
 * support's refunds took back with its time (`withdrawn_fen`, from the successful support refunds
 * that took days back).
 */
export class UpgradeShortfallPricedOnConverted1764057601400 implements MigrationInterface {
  name = 'UpgradeShortfallPricedOnConverted1764057601400';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "membership_grants" ADD "withdrawn_fen" integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "membership_grants" ADD "shortfall_fen" integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "membership_grants" ADD CONSTRAINT "CHK_membership_grants_withdrawn_fen" CHECK ("withdrawn_fen" >= 0)`);
    await q.query(`ALTER TABLE "membership_grants" ADD CONSTRAINT "CHK_membership_grants_shortfall_fen" CHECK ("shortfall_fen" >= 0)`);
    await q.query(
      `UPDATE "membership_grants" g SET "shortfall_fen" = o."upgrade_shortfall"
         FROM "orders" o WHERE o."id" = g."order_id" AND g."kind" = 'upgrade' AND o."upgrade_shortfall" > 0`,
    );
    await q.query(
      `UPDATE "membership_grants" g SET "withdrawn_fen" = f."fen"
         FROM (SELECT r."order_id", sum(r."amount")::int AS "fen" FROM "refunds" r JOIN "orders" o ON o."id" = r."order_id"
                WHERE r."kind" = 'support' AND r."membership" = 'withdraw' AND r."status" = 'success' AND r."payment_no" = o."payment_no"
                GROUP BY r."order_id") f
        WHERE f."order_id" = g."order_id" AND g."revoked_at" IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "membership_grants" DROP CONSTRAINT "CHK_membership_grants_shortfall_fen"`);
    await q.query(`ALTER TABLE "membership_grants" DROP CONSTRAINT "CHK_membership_grants_withdrawn_fen"`);
    await q.query(`ALTER TABLE "membership_grants" DROP COLUMN "shortfall_fen"`);
    await q.query(`ALTER TABLE "membership_grants" DROP COLUMN "withdrawn_fen"`);
  }
}
