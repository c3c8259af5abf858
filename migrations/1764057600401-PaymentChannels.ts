import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The channel an order is paid through (QR code, app, phone browser, WeChat's browser, desktop
 * page), on the order and on each attempt; what the client received (`pay_params`); and what the
 * caller gave for the channel (`channel_options`: openid, app id, return URL), reused when the
 * order is given a fresh attempt. Existing rows are QR payments.
 */
export class PaymentChannels1764057600401 implements MigrationInterface {
  name = 'PaymentChannels1764057600401';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "orders" ADD "channel" character varying(16) NOT NULL DEFAULT 'qr'`);
    await q.query(`ALTER TABLE "orders" ADD "channel_options" jsonb`);
    await q.query(`ALTER TABLE "orders" ADD "pay_params" jsonb`);
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "CHK_orders_channel" CHECK ("channel" IN ('qr', 'app', 'h5', 'jsapi', 'wap', 'page'))`,
    );
    await q.query(`ALTER TABLE "payment_records" ADD "channel" character varying(16) NOT NULL DEFAULT 'qr'`);
    await q.query(`ALTER TABLE "payment_records" ADD "pay_params" jsonb`);
    await q.query(
      `ALTER TABLE "payment_records" ADD CONSTRAINT "CHK_payment_records_channel" CHECK ("channel" IN ('qr', 'app', 'h5', 'jsapi', 'wap', 'page'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_records" DROP CONSTRAINT "CHK_payment_records_channel"`);
    await q.query(`ALTER TABLE "payment_records" DROP COLUMN "pay_params"`);
    await q.query(`ALTER TABLE "payment_records" DROP COLUMN "channel"`);
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "CHK_orders_channel"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "pay_params"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "channel_options"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "channel"`);
  }
}
