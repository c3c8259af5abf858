import { MigrationInterface, QueryRunner } from 'typeorm';
import { SettleAttemptFunction1764057600005 } from './1764057600005-SettleAttemptFunction';

/**
 * The membership becomes a ledger of periods rebuilt from per-order grants (src/membership).
 *
 * - membership_grants keeps one row per paid order, now holding the grant's inputs (kind, level,
 *   days, an upgrade's quoted terms) instead of a before/after snapshot.
 * - membership_periods holds the ledger. Each existing membership becomes one period, carried by an
 *   `opening` grant: the member's latest grant where there is one (its order), a new order-less one
 *   where there is none. Older grants stay as records (opening, no days), so every paid order still
 *   has its one grant.
 * - user_memberships goes: its level went stale the moment a higher level's days ran out.
 * - orders keep an upgrade's quoted terms and, once paid, any shortfall.
 * - settle_payment_attempt goes: settlement rebuilds the ledger in TypeScript inside its transaction.
 */
export class MembershipPeriods1764057600100 implements MigrationInterface {
  name = 'MembershipPeriods1764057600100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" ADD "upgrade_from_level" integer`);
    await q.query(`ALTER TABLE "orders" ADD "upgrade_ms" bigint`);
    await q.query(`ALTER TABLE "orders" ADD "upgrade_shortfall" integer`);

    await q.query(`ALTER TABLE "membership_grants" ALTER COLUMN "order_id" DROP NOT NULL`);
    await q.query(`ALTER TABLE "membership_grants"
      ADD "kind" character varying(16),
      ADD "level" integer,
      ADD "duration_ms" bigint NOT NULL DEFAULT 0,
      ADD "granted_at" TIMESTAMP WITH TIME ZONE,
      ADD "upgrade_from_level" integer,
      ADD "upgrade_quoted_ms" bigint,
      ADD "upgrade_quoted_at" TIMESTAMP WITH TIME ZONE,
      ADD "converted_ms" bigint,
      ADD "revoked_at" TIMESTAMP WITH TIME ZONE`);
    // Every existing grant becomes a record without days; the member's latest one carries the membership.
    await q.query(`UPDATE "membership_grants" SET "kind" = 'opening', "level" = "new_level", "granted_at" = "created_at"`);
    await q.query(`
      UPDATE "membership_grants" g SET "level" = m."level", "granted_at" = m."started_at",
             "duration_ms" = GREATEST(0, (EXTRACT(EPOCH FROM m."expires_at" - m."started_at") * 1000)::bigint)
        FROM "user_memberships" m
       WHERE g."id" = (SELECT l."id" FROM "membership_grants" l WHERE l."user_id" = m."user_id"
                        ORDER BY l."created_at" DESC, l."new_expires_at" DESC LIMIT 1)`);
    await q.query(`
      INSERT INTO "membership_grants" ("order_id", "user_id", "plan_id", "new_level", "new_expires_at", "kind", "level", "duration_ms", "granted_at")
      SELECT NULL, m."user_id", m."plan_id", m."level", m."expires_at", 'opening', m."level",
             GREATEST(0, (EXTRACT(EPOCH FROM m."expires_at" - m."started_at") * 1000)::bigint), m."started_at"
        FROM "user_memberships" m
       WHERE NOT EXISTS (SELECT 1 FROM "membership_grants" g WHERE g."user_id" = m."user_id")`);
    await q.query(
      `ALTER TABLE "membership_grants" ALTER COLUMN "kind" SET NOT NULL, ALTER COLUMN "level" SET NOT NULL, ALTER COLUMN "granted_at" SET NOT NULL`,
    );
    await q.query(
      `ALTER TABLE "membership_grants" DROP COLUMN "previous_level", DROP COLUMN "previous_expires_at", DROP COLUMN "new_level", DROP COLUMN "new_expires_at"`,
    );
    await q.query(`ALTER TABLE "membership_grants"
      ADD CONSTRAINT "CHK_membership_grants_kind" CHECK ("kind" IN ('add', 'upgrade', 'opening')),
      ADD CONSTRAINT "CHK_membership_grants_order" CHECK ("order_id" IS NOT NULL OR "kind" = 'opening'),
      ADD CONSTRAINT "CHK_membership_grants_upgrade" CHECK (("kind" = 'upgrade') = ("upgrade_from_level" IS NOT NULL AND "upgrade_quoted_ms" IS NOT NULL AND "upgrade_quoted_at" IS NOT NULL)),
      ADD CONSTRAINT "CHK_membership_grants_duration" CHECK ("duration_ms" >= 0)`);

    await q.query(`
      CREATE TABLE "membership_periods" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" character varying(64) NOT NULL,
        "grant_id" uuid NOT NULL,
        "order_id" uuid,
        "plan_id" integer NOT NULL,
        "level" integer NOT NULL,
        "starts_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "ends_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_membership_periods" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_membership_periods_span" CHECK ("ends_at" > "starts_at"),
        CONSTRAINT "FK_membership_periods_grant" FOREIGN KEY ("grant_id") REFERENCES "membership_grants"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "FK_membership_periods_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
        CONSTRAINT "FK_membership_periods_plan" FOREIGN KEY ("plan_id") REFERENCES "membership_plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_membership_periods_user" ON "membership_periods" ("user_id", "starts_at")`);
    await q.query(`CREATE INDEX "IDX_membership_periods_grant" ON "membership_periods" ("grant_id")`);
    await q.query(`
      INSERT INTO "membership_periods" ("user_id", "grant_id", "order_id", "plan_id", "level", "starts_at", "ends_at")
      SELECT "user_id", "id", "order_id", "plan_id", "level", "granted_at", "granted_at" + "duration_ms" * interval '1 millisecond'
        FROM "membership_grants" WHERE "duration_ms" > 0`);

    await q.query(`DROP TABLE "user_memberships"`);
    await q.query(
      `DROP FUNCTION "settle_payment_attempt"(varchar, integer, varchar, varchar, jsonb, timestamptz, integer, timestamptz, integer, timestamptz, timestamptz, jsonb)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await new SettleAttemptFunction1764057600005().up(q);
    await q.query(`
      CREATE TABLE "user_memberships" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" character varying(64) NOT NULL,
        "plan_id" integer NOT NULL,
        "level" integer NOT NULL,
        "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_user_memberships" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_user_memberships_user_id" UNIQUE ("user_id"),
        CONSTRAINT "FK_user_memberships_plan" FOREIGN KEY ("plan_id") REFERENCES "membership_plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    // One membership per member: the level and plan of its last period, from its first to its last day.
    await q.query(`
      INSERT INTO "user_memberships" ("user_id", "plan_id", "level", "started_at", "expires_at")
      SELECT DISTINCT ON ("user_id") "user_id", "plan_id", "level",
             min("starts_at") OVER (PARTITION BY "user_id"), max("ends_at") OVER (PARTITION BY "user_id")
        FROM "membership_periods" ORDER BY "user_id", "ends_at" DESC`);
    await q.query(`DROP TABLE "membership_periods"`);

    await q.query(`ALTER TABLE "membership_grants"
      DROP CONSTRAINT "CHK_membership_grants_kind", DROP CONSTRAINT "CHK_membership_grants_order",
      DROP CONSTRAINT "CHK_membership_grants_upgrade", DROP CONSTRAINT "CHK_membership_grants_duration"`);
    await q.query(`ALTER TABLE "membership_grants" ADD "previous_level" integer, ADD "previous_expires_at" TIMESTAMP WITH TIME ZONE,
      ADD "new_level" integer, ADD "new_expires_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`DELETE FROM "membership_grants" WHERE "order_id" IS NULL OR "revoked_at" IS NOT NULL`);
    await q.query(`UPDATE "membership_grants" SET "new_level" = "level",
      "new_expires_at" = "granted_at" + GREATEST("duration_ms", COALESCE("converted_ms", 0)) * interval '1 millisecond'`);
    await q.query(`ALTER TABLE "membership_grants" ALTER COLUMN "new_level" SET NOT NULL, ALTER COLUMN "new_expires_at" SET NOT NULL,
      ALTER COLUMN "order_id" SET NOT NULL`);
    await q.query(`ALTER TABLE "membership_grants" DROP COLUMN "kind", DROP COLUMN "level", DROP COLUMN "duration_ms", DROP COLUMN "granted_at",
      DROP COLUMN "upgrade_from_level", DROP COLUMN "upgrade_quoted_ms", DROP COLUMN "upgrade_quoted_at", DROP COLUMN "converted_ms", DROP COLUMN "revoked_at"`);

    await q.query(`ALTER TABLE "orders" DROP COLUMN "upgrade_shortfall"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "upgrade_ms"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "upgrade_from_level"`);
  }
}
