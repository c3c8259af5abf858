import { MigrationInterface, QueryRunner } from 'typeorm';

export class OrderEvents1764057600003 implements MigrationInterface {
  name = 'OrderEvents1764057600003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "order_events" (
        "id" BIGSERIAL NOT NULL,
        "order_id" uuid NOT NULL,
        "user_id" character varying(64) NOT NULL,
        "type" character varying(32) NOT NULL,
        "payload" jsonb NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_order_events" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_order_events_type" CHECK ("type" IN ('order.paid', 'order.expired', 'order.closed', 'order.refunded')),
        CONSTRAINT "FK_order_events_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_order_events_user" ON "order_events" ("user_id", "id")`);
    await q.query(`CREATE INDEX "IDX_order_events_created" ON "order_events" ("created_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "order_events"`);
  }
}
