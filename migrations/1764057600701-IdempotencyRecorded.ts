import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A keyed request whose effect commits before its answer is known (a refund, recorded before the
 * provider is called) keeps its key as `recorded`, naming what it made in "resource", in the same
 * transaction as that effect: a retry after a crash finds it and answers with it.
 */
export class IdempotencyRecorded1764057600701 implements MigrationInterface {
  name = 'IdempotencyRecorded1764057600701';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "idempotency_keys" ADD "resource" character varying(64)`);
    await q.query(`ALTER TABLE "idempotency_keys" DROP CONSTRAINT "CHK_idempotency_keys_status"`);
    await q.query(
      `ALTER TABLE "idempotency_keys" ADD CONSTRAINT "CHK_idempotency_keys_status" CHECK ("status" IN ('in_flight', 'recorded', 'done'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // A recorded key's answer is the resource it names; without the column a retry would make a second one.
    await q.query(`DELETE FROM "idempotency_keys" WHERE "status" = 'recorded'`);
    await q.query(`ALTER TABLE "idempotency_keys" DROP CONSTRAINT "CHK_idempotency_keys_status"`);
    await q.query(`ALTER TABLE "idempotency_keys" ADD CONSTRAINT "CHK_idempotency_keys_status" CHECK ("status" IN ('in_flight', 'done'))`);
    await q.query(`ALTER TABLE "idempotency_keys" DROP COLUMN "resource"`);
  }
}
