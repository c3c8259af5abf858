import { MigrationInterface, QueryRunner } from 'typeorm';

const OLD_EVENT_TYPES = `'order.paid', 'order.expired', 'order.closed', 'order.refunded'`;
const NEW_EVENT_TYPES = `${OLD_EVENT_TYPES}, 'membership.renewal_upcoming', 'membership.renewed', 'membership.renewal_failed', 'membership.renewal_recovered', 'membership.auto_renew_lapsed'`;

/**
 * Renewals by contract:
 * - payment_records.contract_id: the provider's contract a deduction ran under (null for every attempt a
 *   member pays herself). At most one deduction of an order is in flight (pending) at a time, so two job
 *   runners or a retry racing a query never deduct twice for one order.
 * - orders.source: `member` (the member bought it) or `renewal` (the renewal job made it for a contract).
 * - contracts: the next renewal's time T, the end of grace, and when the renewal job next looks at it
 *   (its claim and lease); cycles_renewed counts the cycles paid.
 * - renewal_cycles: one row per contract and cycle (UNIQUE), with its one renewal order: a cycle is
 *   charged through that order only, so it is paid at most once (a second payment of the order is a
 *   double payment, refunded).
 * - order_events: the renewal events.
 */
export class Renewals1764057601200 implements MigrationInterface {
  name = 'Renewals1764057601200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "payment_records" ADD "contract_id" character varying(64)`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_payment_records_one_open_deduction" ON "payment_records" ("order_id") WHERE "contract_id" IS NOT NULL AND "status" = 'pending'`,
    );
    await q.query(`ALTER TABLE "orders" ADD "source" character varying(16) NOT NULL DEFAULT 'member'`);
    await q.query(`ALTER TABLE "orders" ADD CONSTRAINT "CHK_orders_source" CHECK ("source" IN ('member', 'renewal'))`);
    await q.query(`ALTER TABLE "contracts" ADD "next_renewal_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "contracts" ADD "grace_ends_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "contracts" ADD "next_run_at" TIMESTAMP WITH TIME ZONE`);
    await q.query(`ALTER TABLE "contracts" ADD "cycles_renewed" integer NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX "IDX_contracts_renewal_due" ON "contracts" ("next_run_at") WHERE "status" IN ('active', 'past_due')`);
    await q.query(`
      CREATE TABLE "renewal_cycles" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "contract_id" uuid NOT NULL,
        "cycle" integer NOT NULL,
        "due_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "order_id" uuid NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'open',
        "tries" integer NOT NULL DEFAULT 0,
        "next_try_at" TIMESTAMP WITH TIME ZONE,
        "last_failure" character varying(64),
        "reminded_at" TIMESTAMP WITH TIME ZONE,
        "noticed_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_renewal_cycles" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_renewal_cycles_contract_cycle" UNIQUE ("contract_id", "cycle"),
        CONSTRAINT "UQ_renewal_cycles_order" UNIQUE ("order_id"),
        CONSTRAINT "CHK_renewal_cycles_status" CHECK ("status" IN ('open', 'paid', 'failed', 'abandoned')),
        CONSTRAINT "CHK_renewal_cycles_cycle" CHECK ("cycle" > 0),
        CONSTRAINT "FK_renewal_cycles_contract" FOREIGN KEY ("contract_id") REFERENCES "contracts"("id") ON DELETE RESTRICT ON UPDATE NO ACTION,
        CONSTRAINT "FK_renewal_cycles_order" FOREIGN KEY ("order_id") REFERENCES "orders"("id") ON DELETE RESTRICT ON UPDATE NO ACTION
      )`);
    await q.query(`ALTER TABLE "order_events" DROP CONSTRAINT "CHK_order_events_type"`);
    await q.query(`ALTER TABLE "order_events" ADD CONSTRAINT "CHK_order_events_type" CHECK ("type" IN (${NEW_EVENT_TYPES}))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "order_events" WHERE "type" NOT IN (${OLD_EVENT_TYPES})`);
    await q.query(`ALTER TABLE "order_events" DROP CONSTRAINT "CHK_order_events_type"`);
    await q.query(`ALTER TABLE "order_events" ADD CONSTRAINT "CHK_order_events_type" CHECK ("type" IN (${OLD_EVENT_TYPES}))`);
    await q.query(`DROP TABLE "renewal_cycles"`);
    await q.query(`DROP INDEX "IDX_contracts_renewal_due"`);
    await q.query(`ALTER TABLE "contracts" DROP COLUMN "cycles_renewed"`);
    await q.query(`ALTER TABLE "contracts" DROP COLUMN "next_run_at"`);
    await q.query(`ALTER TABLE "contracts" DROP COLUMN "grace_ends_at"`);
    await q.query(`ALTER TABLE "contracts" DROP COLUMN "next_renewal_at"`);
    await q.query(`ALTER TABLE "orders" DROP CONSTRAINT "CHK_orders_source"`);
    await q.query(`ALTER TABLE "orders" DROP COLUMN "source"`);
    await q.query(`DROP INDEX "UQ_payment_records_one_open_deduction"`);
    await q.query(`ALTER TABLE "payment_records" DROP COLUMN "contract_id"`);
  }
}
