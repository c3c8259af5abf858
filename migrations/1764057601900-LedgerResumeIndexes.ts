import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A settlement resumes the member's ledger from their latest grant instead of replaying every
 * grant: it reads the latest grant's time and the periods that end after it. Both reads walk an
 * index whatever the member's history: the grants by (user_id, granted_at), the periods by
 * (user_id, ends_at). Each replaces the index on the same leading column, which every other read of
 * a member's grants or periods still uses.
 */
export class LedgerResumeIndexes1764057601900 implements MigrationInterface {
  name = 'LedgerResumeIndexes1764057601900';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_membership_grants_user"`);
    await q.query(`CREATE INDEX "IDX_membership_grants_user" ON "membership_grants" ("user_id", "granted_at")`);
    await q.query(`DROP INDEX "IDX_membership_periods_user"`);
    await q.query(`CREATE INDEX "IDX_membership_periods_user" ON "membership_periods" ("user_id", "ends_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_membership_periods_user"`);
    await q.query(`CREATE INDEX "IDX_membership_periods_user" ON "membership_periods" ("user_id", "starts_at")`);
    await q.query(`DROP INDEX "IDX_membership_grants_user"`);
    await q.query(`CREATE INDEX "IDX_membership_grants_user" ON "membership_grants" ("user_id")`);
  }
}
