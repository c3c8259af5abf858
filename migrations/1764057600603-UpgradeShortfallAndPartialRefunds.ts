import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Money exact at the edges:
 * - one pending upgrade per member (two upgrades priced on the same days would both be paid);
 * - an upgrade's shortfall is refunded by itself: refunds of kind `upgrade_shortfall`, and on the
 *   order the fen such refunds were started for (`upgrade_shortfall_refunding`), so the refund job
 *   finds what is still owed;
 * - a partial refund takes back the days its fen bought: the grant's `withdrawn_ms` (of its days,
 *   or of an upgrade's converted time), unless support keeps the membership (`membership` on the
 *   refund: `keep` is a concession, recorded with who and why).
 */
export class UpgradeShortfallAndPartialRefunds1764057600603 implements MigrationInterface {
  name = 'UpgradeShortfallAndPartialRefunds1764057600603';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX "UQ_orders_pending_upgrade" ON "orders" ("user_id") WHERE "is_upgrade" AND "status" = 'pending'`);
    await q.query(`ALTER TABLE "orders" ADD "upgrade_shortfall_refunding" integer NOT NULL DEFAULT 0`);
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "CHK_orders_upgrade_shortfall_refunding" CHECK ("upgrade_shortfall_refunding" >= 0)`,
    );
    await q.query(`ALTER TABLE "membership_grants" ADD "withdrawn_ms" bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE "membership_grants" ADD CONSTRAINT "CHK_membership_grants_withdrawn_ms" CHECK ("withdrawn_ms" >= 0)`);
    await q.query(`ALTER TABLE "refunds" DROP CONSTRAINT "CHK_refunds_kind"`);
    await q.query(
      `ALTER TABLE "refunds" ADD CONSTRAINT "CHK_refunds_kind" CHECK ("kind" IN ('support', 'duplicate_payment', 'upgrade_shortfall'))`,
    );
    await q.query(`ALTER TABLE "refunds" ADD "membership" character varying(16) NOT NULL DEFAULT 'withdraw'`);
    await q.query(`ALTER TABLE "refunds" ADD CONSTRAINT "CHK_refunds_membership" CHECK ("membership" IN ('withdraw', 'keep'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "refunds" DROP CONSTRAINT "CHK_refunds_membership"`);
    await q.query(`ALTER TABLE "refunds" DROP COLUMN "membership"`);
    await q.query(`DELETE FROM "refunds" WHERE "kind" = 'upgrade_shortfall'`);
    await q.query(`ALTER TABLE "refunds" DROP CONSTRAINT "CHK_refunds_kind"`);
    await q.query(`ALTER TABLE "refunds" ADD CONSTRAINT "CHK_refunds_kind" CHECK ("kind" IN ('support', 'duplicate_payment'))`);
    await q.query(`ALTER TABLE "membership_grants" DROP CONSTRAINT "CHK_membership_grants_withdrawn_ms"`);
    await q.query(`ALTER TABLE "membership_grants" DROP COLUMN "withdrawn_ms"`);
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "CHK_orders_upgrade_shortfall_refunding"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "upgrade_shortfall_refunding"`);
    await q.query(`DROP INDEX "UQ_orders_pending_upgrade"`);
  }
}
