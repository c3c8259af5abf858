import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An Idempotency-Key's answer is kept as the exact text sent, so a replay is byte-for-byte the
 * first answer (jsonb reorders keys and normalises numbers and spacing).
 */
export class IdempotencyAnswerText1764057600201 implements MigrationInterface {
  name = 'IdempotencyAnswerText1764057600201';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "idempotency_keys" ALTER COLUMN "response_body" TYPE text USING "response_body"::text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "idempotency_keys" ALTER COLUMN "response_body" TYPE jsonb USING "response_body"::jsonb`);
  }
}
