import { MigrationInterface, QueryRunner } from 'typeorm';

/** The default catalogue: monthly, quarterly and yearly plans at two levels; prices in fen. */
export class SeedMembershipPlans1764057600001 implements MigrationInterface {
  name = 'SeedMembershipPlans1764057600001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      INSERT INTO "membership_plans" ("id", "code", "name", "level", "duration_days", "price") VALUES
        (1, 'basic_monthly',     'Basic, monthly',     1,  30,  1990),
        (2, 'basic_quarterly',   'Basic, quarterly',   1,  90,  5490),
        (3, 'basic_yearly',      'Basic, yearly',      1, 365, 19900),
        (4, 'premium_monthly',   'Premium, monthly',   2,  30,  3990),
        (5, 'premium_quarterly', 'Premium, quarterly', 2,  90, 10990),
        (6, 'premium_yearly',    'Premium, yearly',    2, 365, 39900)`);
    await q.query(`SELECT setval(pg_get_serial_sequence('membership_plans', 'id'), 6)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM "membership_plans" WHERE "code" IN
      ('basic_monthly', 'basic_quarterly', 'basic_yearly', 'premium_monthly', 'premium_quarterly', 'premium_yearly')`);
  }
}
