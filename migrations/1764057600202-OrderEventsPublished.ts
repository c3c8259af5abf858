import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When an outbox row was pushed to the clients (or claimed by the relay for it). Rows written
 * before this column existed count as pushed: they are past anything a relay should send live.
 */
export class OrderEventsPublished1764057600202 implements MigrationInterface {
  name = 'OrderEventsPublished1764057600202';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "order_events" ADD "published_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`UPDATE "order_events" SET "published_at" = "created_at"`);
    await q.query(`CREATE INDEX "IDX_order_events_unpublished" ON "order_events" ("id") WHERE "published_at" IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_order_events_unpublished"`);
    await q.query(`ALTER TABLE "order_events" DROP COLUMN "published_at"`);
  }
}
