import { MigrationInterface, QueryRunner } from 'typeorm';

export class IdempotencyKeys1764057600002 implements MigrationInterface {
  name = 'IdempotencyKeys1764057600002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "idempotency_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" character varying(64) NOT NULL,
        "key" character varying(255) NOT NULL,
        "request_hash" character varying(64) NOT NULL,
        "status" character varying(16) NOT NULL,
        "response_status" integer,
        "response_body" jsonb,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_idempotency_keys" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_idempotency_keys_user_key" UNIQUE ("user_id", "key"),
        CONSTRAINT "CHK_idempotency_keys_status" CHECK ("status" IN ('in_flight', 'done'))
      )`);
    await q.query(`CREATE INDEX "IDX_idempotency_keys_created" ON "idempotency_keys" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "idempotency_keys"`);
  }
}
