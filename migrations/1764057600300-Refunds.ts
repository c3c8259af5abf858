import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refunds: the `refunds` table, the refund statuses of an order, and what every order has been
 * refunded so far (orders.refunded_amount, written by the orders module when a refund succeeds).
 *
 * `refunds_within_paid` is the database's own guard that money refunded never exceeds money paid,
 * whatever the application does: every refund that holds money (processing, success, abnormal)
 * must belong to a paid attempt of its order, and the refunds holding money on one attempt add
 * up to at most what that attempt was paid. It locks the order row first, so two refunds of one
 * order racing for the last fen are decided one after the other: the second sees the first.
 */
export class Refunds1764057600300 implements MigrationInterface {
  name = 'Refunds1764057600300';

  async up(q: QueryRunner): Promise<void> {
    // 'partially_refunded' is 18 characters: the status column grows.
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "CHK_orders_status"`);
    await q.query(`ALTER TABLE "orders" ALTER COLUMN "status" TYPE character varying(24)`);
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "CHK_orders_status" CHECK ("status" IN ('pending', 'paid', 'expired', 'closed', 'failed', 'refunded', 'partially_refunded'))`,
    );
    await q.query(`ALTER TABLE "orders" ADD "refunded_amount" integer NOT NULL DEFAULT 0`);
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "CHK_orders_refunded_amount" CHECK ("refunded_amount" >= 0 AND "refunded_amount" <= "amount")`,
    );
    await q.query(`
      CREATE TABLE "refunds" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "refund_no" character varying(32) NOT NULL,
        "order_id" uuid NOT NULL,
        "payment_no" character varying(32) NOT NULL,
        "payment_method" character varying(16) NOT NULL,
        "amount" integer NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'processing',
        "kind" character varying(24) NOT NULL DEFAULT 'support',
        "reason" character varying(256) NOT NULL,
        "requested_by" character varying(64) NOT NULL,
        "provider_refund_id" character varying(64),
        "provider_state" character varying(32),
        "failure_reason" character varying(256),
        "provider_calls" integer NOT NULL DEFAULT 0,
        "query_count" integer NOT NULL DEFAULT 0,
        "next_query_at" TIMESTAMP WITH TIME ZONE,
        "succeeded_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_refunds" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_refunds_refund_no" UNIQUE ("refund_no"),
        CONSTRAINT "CHK_refunds_refund_no" CHECK ("refund_no" ~ '^[0-9A-Za-z]{1,32}$'),
        CONSTRAINT "CHK_refunds_amount" CHECK ("amount" > 0),
        CONSTRAINT "CHK_refunds_status" CHECK ("status" IN ('processing', 'success', 'failed', 'closed', 'abnormal')),
        CONSTRAINT "CHK_refunds_kind" CHECK ("kind" IN ('support', 'duplicate_payment')),
        CONSTRAINT "CHK_refunds_payment_method" CHECK ("payment_method" IN ('wechat', 'alipay')),
        CONSTRAINT "CHK_refunds_reason" CHECK ("reason" <> ''),
        CONSTRAINT "FK_refunds_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
        CONSTRAINT "FK_refunds_payment" FOREIGN KEY ("payment_no") REFERENCES "payment_records"("payment_no") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_refunds_order" ON "refunds" ("order_id", "created_at")`);
    await q.query(`CREATE INDEX "IDX_refunds_due" ON "refunds" ("status", "next_query_at")`);
    await q.query(`CREATE UNIQUE INDEX "UQ_refunds_duplicate_payment" ON "refunds" ("payment_no") WHERE "kind" = 'duplicate_payment'`);
    await q.query(`
      CREATE FUNCTION "refunds_within_paid"() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        v_paid integer;
        v_held bigint;
      BEGIN
        IF NEW.status IN ('failed', 'closed') THEN
          RETURN NEW; -- holds no money
        END IF;
        PERFORM 1 FROM orders WHERE id = NEW.order_id FOR UPDATE;
        SELECT amount INTO v_paid FROM payment_records
         WHERE payment_no = NEW.payment_no AND order_id = NEW.order_id AND status = 'success';
        IF NOT FOUND THEN
          RAISE EXCEPTION 'refund % is for payment % of order %, which is not paid', NEW.refund_no, NEW.payment_no, NEW.order_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'CHK_refunds_within_paid';
        END IF;
        SELECT COALESCE(sum(amount), 0) INTO v_held FROM refunds
         WHERE payment_no = NEW.payment_no AND id <> NEW.id AND status NOT IN ('failed', 'closed');
        IF v_held + NEW.amount > v_paid THEN
          RAISE EXCEPTION 'refund % of % fen would bring the refunds of payment % to % fen, more than the % fen paid',
            NEW.refund_no, NEW.amount, NEW.payment_no, v_held + NEW.amount, v_paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'CHK_refunds_within_paid';
        END IF;
        RETURN NEW;
      END
      $fn$`);
    await q.query(`
      CREATE TRIGGER "TRG_refunds_within_paid" BEFORE INSERT OR UPDATE OF "status", "amount", "payment_no" ON "refunds"
      FOR EACH ROW EXECUTE FUNCTION "refunds_within_paid"()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER "TRG_refunds_within_paid" ON "refunds"`);
    await q.query(`DROP FUNCTION "refunds_within_paid"()`);
    await q.query(`DROP TABLE "refunds"`);
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "CHK_orders_refunded_amount"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "refunded_amount"`);
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "CHK_orders_status"`);
    // Refunded orders fall back to the statuses the older schema knows.
    await q.query(`UPDATE "orders" SET "status" = 'paid' WHERE "status" = 'partially_refunded'`);
    await q.query(`ALTER TABLE "orders" ALTER COLUMN "status" TYPE character varying(16)`);
    await q.query(
      `ALTER TABLE "orders" ADD CONSTRAINT "CHK_orders_status" CHECK ("status" IN ('pending', 'paid', 'expired', 'closed', 'failed', 'refunded'))`,
    );
  }
}
