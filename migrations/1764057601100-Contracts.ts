import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Auto-renewal contracts (docs/contracts.md), owned by the subscriptions module: one row per contract a
 * member signs with a provider, at most one open (pending, active, past_due) per member, the provider's
 * contract id unique per provider once known.
 */
export class Contracts1764057601100 implements MigrationInterface {
  name = 'Contracts1764057601100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "contracts" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "contract_no" character varying(32) NOT NULL,
        "user_id" character varying(64) NOT NULL,
        "provider" character varying(16) NOT NULL,
        "plan_id" integer NOT NULL,
        "amount" integer NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "provider_contract_id" character varying(64),
        "signed_at" TIMESTAMP WITH TIME ZONE,
        "ended_at" TIMESTAMP WITH TIME ZONE,
        "ended_by" character varying(16),
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_contracts" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_contracts_contract_no" UNIQUE ("contract_no"),
        CONSTRAINT "CHK_contracts_contract_no" CHECK ("contract_no" ~ '^[0-9A-Za-z]{1,32}$'),
        CONSTRAINT "CHK_contracts_amount" CHECK ("amount" > 0),
        CONSTRAINT "CHK_contracts_status" CHECK ("status" IN ('pending', 'active', 'past_due', 'cancelled', 'lapsed')),
        CONSTRAINT "CHK_contracts_provider" CHECK ("provider" IN ('wechat', 'alipay')),
        CONSTRAINT "CHK_contracts_ended_by" CHECK ("ended_by" IN ('member', 'merchant', 'provider', 'support')),
        CONSTRAINT "FK_contracts_plan" FOREIGN KEY ("plan_id") REFERENCES "membership_plans"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_contracts_provider_contract" ON "contracts" ("provider", "provider_contract_id") WHERE "provider_contract_id" IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX "UQ_contracts_one_open_per_member" ON "contracts" ("user_id") WHERE "status" IN ('pending', 'active', 'past_due')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "contracts"`);
  }
}
