import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refused notifications that name one of our payments (owned by payments), for the order's story in
 * the support console: the order, the attempt, the provider, the rejection code and when, counted per
 * minute. Never the notification's body or headers: what a refused notification says is untrusted.
 */
export class NotificationRefusals1764057601302 implements MigrationInterface {
  name = 'NotificationRefusals1764057601302';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "notification_refusals" (
        "id" BIGSERIAL NOT NULL,
        "order_id" uuid NOT NULL,
        "payment_no" character varying(32) NOT NULL,
        "provider" character varying(16) NOT NULL,
        "reason" character varying(32) NOT NULL,
        "minute" TIMESTAMP WITH TIME ZONE NOT NULL,
        "first_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "last_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "count" integer NOT NULL DEFAULT 1,
        CONSTRAINT "PK_notification_refusals" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_notification_refusals_minute" UNIQUE ("order_id", "provider", "reason", "minute"),
        CONSTRAINT "CHK_notification_refusals_provider" CHECK ("provider" IN ('wechat', 'alipay')),
        CONSTRAINT "CHK_notification_refusals_count" CHECK ("count" > 0),
        CONSTRAINT "FK_notification_refusals_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "FK_notification_refusals_payment" FOREIGN KEY ("payment_no") REFERENCES "payment_records"("payment_no") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "notification_refusals"`);
  }
}
