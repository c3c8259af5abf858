import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Service webhooks: the endpoints admins register, one delivery per (endpoint, event) and every
 * attempt at it; and on the outbox, when a row was handed to the webhooks (null: not yet). Rows
 * written before this migration count as handed over: an endpoint hears of what happens after it
 * exists, never of history.
 */
export class Webhooks1764057600800 implements MigrationInterface {
  name = 'Webhooks1764057600800';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "order_events" ADD "fanned_out_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`UPDATE "order_events" SET "fanned_out_at" = "created_at"`);
    await q.query(`CREATE INDEX "IDX_order_events_not_fanned_out" ON "order_events" ("id") WHERE "fanned_out_at" IS NULL`);
    await q.query(`
      CREATE TABLE "webhook_endpoints" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "url" character varying(2048) NOT NULL,
        "events" text array NOT NULL,
        "description" character varying(500) NOT NULL DEFAULT '',
        "enabled" boolean NOT NULL DEFAULT true,
        "secret" character varying(100) NOT NULL,
        "previous_secret" character varying(100),
        "previous_secret_expires_at" TIMESTAMP WITH TIME ZONE,
        "failing_since" TIMESTAMP WITH TIME ZONE,
        "disabled_reason" text,
        "disabled_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_webhook_endpoints" PRIMARY KEY ("id")
      )`);
    await q.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" BIGSERIAL NOT NULL,
        "endpoint_id" uuid NOT NULL,
        "event_id" bigint NOT NULL,
        "type" character varying(64) NOT NULL,
        "webhook_event_id" character varying(64) NOT NULL,
        "user_id" character varying(64) NOT NULL,
        "body" text NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "retry_until" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_attempt_at" TIMESTAMP WITH TIME ZONE,
        "last_status_code" integer,
        "last_error" text,
        "delivered_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_webhook_deliveries_event" UNIQUE ("endpoint_id", "webhook_event_id"),
        CONSTRAINT "CHK_webhook_deliveries_status" CHECK ("status" IN ('pending', 'delivered', 'failed')),
        CONSTRAINT "FK_webhook_deliveries_endpoint" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "FK_webhook_deliveries_event" FOREIGN KEY ("event_id") REFERENCES "order_events"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending'`);
    await q.query(
      `CREATE INDEX "IDX_webhook_deliveries_member_queue" ON "webhook_deliveries" ("endpoint_id", "user_id", "event_id") WHERE "status" = 'pending'`,
    );
    await q.query(`CREATE INDEX "IDX_webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "id")`);
    await q.query(`
      CREATE TABLE "webhook_attempts" (
        "id" BIGSERIAL NOT NULL,
        "delivery_id" bigint NOT NULL,
        "attempted_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "status_code" integer,
        "latency_ms" integer NOT NULL,
        "response_body" character varying(1024),
        "error" text,
        CONSTRAINT "PK_webhook_attempts" PRIMARY KEY ("id"),
        CONSTRAINT "FK_webhook_attempts_delivery" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_webhook_attempts_delivery" ON "webhook_attempts" ("delivery_id", "id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "webhook_attempts"`);
    await q.query(`DROP TABLE "webhook_deliveries"`);
    await q.query(`DROP TABLE "webhook_endpoints"`);
    await q.query(`DROP INDEX "IDX_order_events_not_fanned_out"`);
    await q.query(`ALTER TABLE "order_events" DROP COLUMN "fanned_out_at"`);
  }
}
