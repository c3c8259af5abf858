import { MigrationInterface, QueryRunner } from 'typeorm';

export class ReconciliationTables1764057600500 implements MigrationInterface {
  name = 'ReconciliationTables1764057600500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "reconciliation_runs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "provider" character varying(16) NOT NULL,
        "bill_date" date NOT NULL,
        "status" character varying(16) NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "lease_until" TIMESTAMP WITH TIME ZONE,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE,
        "started_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "compared_at" TIMESTAMP WITH TIME ZONE,
        "bill_sha1" character varying(40),
        "bill_rows" integer,
        "matched" integer NOT NULL DEFAULT 0,
        "missing_locally" integer NOT NULL DEFAULT 0,
        "missing_at_provider" integer NOT NULL DEFAULT 0,
        "amount_mismatch" integer NOT NULL DEFAULT 0,
        "status_mismatch" integer NOT NULL DEFAULT 0,
        "open_items" integer NOT NULL DEFAULT 0,
        "last_error" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_reconciliation_runs" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_reconciliation_runs_day" UNIQUE ("provider", "bill_date"),
        CONSTRAINT "CHK_reconciliation_runs_status" CHECK ("status" IN ('running', 'completed', 'not_ready', 'failed')),
        CONSTRAINT "CHK_reconciliation_runs_provider" CHECK ("provider" IN ('wechat', 'alipay'))
      )`);
    await q.query(`
      CREATE TABLE "reconciliation_items" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "run_id" uuid NOT NULL,
        "kind" character varying(16) NOT NULL,
        "reference" character varying(64) NOT NULL,
        "payment_no" character varying(64) NOT NULL,
        "outcome" character varying(24) NOT NULL,
        "local_amount" integer,
        "provider_amount" integer,
        "local_status" character varying(32),
        "provider_status" character varying(32),
        "provider_trade_no" character varying(64),
        "action" character varying(16),
        "detail" text,
        "resolved_at" TIMESTAMP WITH TIME ZONE,
        "resolved_by" character varying(64),
        "resolution_note" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_reconciliation_items" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_reconciliation_items_reference" UNIQUE ("run_id", "kind", "reference"),
        CONSTRAINT "CHK_reconciliation_items_kind" CHECK ("kind" IN ('payment', 'refund')),
        CONSTRAINT "CHK_reconciliation_items_outcome" CHECK ("outcome" IN ('matched', 'missing_locally', 'missing_at_provider', 'amount_mismatch', 'status_mismatch')),
        CONSTRAINT "FK_reconciliation_items_run" FOREIGN KEY ("run_id") REFERENCES "reconciliation_runs"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_reconciliation_items_run_outcome" ON "reconciliation_items" ("run_id", "outcome")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "reconciliation_items"`);
    await q.query(`DROP TABLE "reconciliation_runs"`);
  }
}
