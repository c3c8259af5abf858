import { MigrationInterface, QueryRunner } from 'typeorm';

export class AdminAuditLog1764057600900 implements MigrationInterface {
  name = 'AdminAuditLog1764057600900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "admin_audit_log" (
        "id" BIGSERIAL NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor" character varying(64) NOT NULL,
        "action" character varying(48) NOT NULL,
        "target_type" character varying(24) NOT NULL,
        "target" character varying(128) NOT NULL,
        "reason" text,
        "client_address" character varying(64),
        "request_id" character varying(64),
        "detail" jsonb,
        CONSTRAINT "PK_admin_audit_log" PRIMARY KEY ("id")
      )`);
    await q.query(`CREATE INDEX "IDX_admin_audit_log_created" ON "admin_audit_log" ("created_at")`);
    await q.query(`CREATE INDEX "IDX_admin_audit_log_target" ON "admin_audit_log" ("target_type", "target")`);
    // The log is append-only in the database too: no route edits it, and neither can a statement.
    await q.query(`
      CREATE FUNCTION admin_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'admin_audit_log is append-only';
      END $$`);
    await q.query(`
      CREATE TRIGGER "TRG_admin_audit_log_append_only" BEFORE UPDATE OR DELETE ON "admin_audit_log"
      FOR EACH ROW EXECUTE FUNCTION admin_audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "admin_audit_log"`);
    await q.query(`DROP FUNCTION admin_audit_log_append_only()`);
  }
}
