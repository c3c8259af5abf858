import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764057600000 implements MigrationInterface {
  name = 'InitialSchema1764057600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "membership_plans" (
        "id" SERIAL NOT NULL,
        "code" character varying(32) NOT NULL,
        "name" character varying(64) NOT NULL,
        "level" integer NOT NULL,
        "duration_days" integer NOT NULL,
        "price" integer NOT NULL,
        "active" boolean NOT NULL DEFAULT true,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_membership_plans" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_membership_plans_code" UNIQUE ("code"),
        CONSTRAINT "CHK_membership_plans_price" CHECK ("price" > 0),
        CONSTRAINT "CHK_membership_plans_duration" CHECK ("duration_days" > 0)
      )`);
    await q.query(`
      CREATE TABLE "orders" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "order_no" character varying(32) NOT NULL,
        "user_id" character varying(64) NOT NULL,
        "product_type" character varying(16) NOT NULL,
        "product_id" integer NOT NULL,
        "is_upgrade" boolean NOT NULL DEFAULT false,
        "amount" integer NOT NULL,
        "currency" character varying(3) NOT NULL DEFAULT 'CNY',
        "description" character varying(127) NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "payment_method" character varying(16) NOT NULL,
        "payment_no" character varying(32),
        "qr_code_url" text,
        "qr_code_expire_at" TIMESTAMP WITH TIME ZONE,
        "expire_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "paid_at" TIMESTAMP WITH TIME ZONE,
        "transaction_id" character varying(64),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_orders" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_orders_order_no" UNIQUE ("order_no"),
        CONSTRAINT "UQ_orders_payment_no" UNIQUE ("payment_no"),
        CONSTRAINT "CHK_orders_order_no" CHECK ("order_no" ~ '^[0-9A-Za-z_-]{1,32}$'),
        CONSTRAINT "CHK_orders_status" CHECK ("status" IN ('pending', 'paid', 'expired', 'closed', 'failed', 'refunded')),
        CONSTRAINT "CHK_orders_payment_method" CHECK ("payment_method" IN ('wechat', 'alipay')),
        CONSTRAINT "CHK_orders_product_type" CHECK ("product_type" IN ('membership')),
        CONSTRAINT "CHK_orders_amount" CHECK ("amount" > 0),
        CONSTRAINT "CHK_orders_currency" CHECK ("currency" = 'CNY')
      )`);
    await q.query(`CREATE INDEX "IDX_orders_user_created" ON "orders" ("user_id", "created_at")`);
    await q.query(`CREATE INDEX "IDX_orders_status_expire" ON "orders" ("status", "expire_at")`);
    await q.query(`
      CREATE TABLE "payment_records" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "order_id" uuid NOT NULL,
        "payment_no" character varying(32) NOT NULL,
        "payment_method" character varying(16) NOT NULL,
        "amount" integer NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "trade_state" character varying(32),
        "transaction_id" character varying(64),
        "qr_code_url" text,
        "qr_code_expire_at" TIMESTAMP WITH TIME ZONE,
        "query_count" integer NOT NULL DEFAULT 0,
        "next_query_at" TIMESTAMP WITH TIME ZONE,
        "notify_payload" jsonb,
        "paid_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_payment_records" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_payment_records_payment_no" UNIQUE ("payment_no"),
        CONSTRAINT "CHK_payment_records_status" CHECK ("status" IN ('pending', 'success', 'closed', 'failed', 'refunded')),
        CONSTRAINT "CHK_payment_records_payment_method" CHECK ("payment_method" IN ('wechat', 'alipay')),
        CONSTRAINT "CHK_payment_records_amount" CHECK ("amount" > 0),
        CONSTRAINT "FK_payment_records_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_payment_records_transaction_id" ON "payment_records" ("payment_method", "transaction_id") WHERE "transaction_id" IS NOT NULL`,
    );
    await q.query(`CREATE INDEX "IDX_payment_records_order" ON "payment_records" ("order_id")`);
    await q.query(`CREATE INDEX "IDX_payment_records_active_query" ON "payment_records" ("status", "next_query_at")`);
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
    await q.query(`
      CREATE TABLE "membership_grants" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "order_id" uuid NOT NULL,
        "user_id" character varying(64) NOT NULL,
        "plan_id" integer NOT NULL,
        "previous_level" integer,
        "previous_expires_at" TIMESTAMP WITH TIME ZONE,
        "new_level" integer NOT NULL,
        "new_expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_membership_grants" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_membership_grants_order_id" UNIQUE ("order_id"),
        CONSTRAINT "FK_membership_grants_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
        CONSTRAINT "FK_membership_grants_plan" FOREIGN KEY ("plan_id") REFERENCES "membership_plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(`CREATE INDEX "IDX_membership_grants_user" ON "membership_grants" ("user_id")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "membership_grants"`);
    await q.query(`DROP TABLE "user_memberships"`);
    await q.query(`DROP TABLE "payment_records"`);
    await q.query(`DROP TABLE "orders"`);
    await q.query(`DROP TABLE "membership_plans"`);
  }
}
