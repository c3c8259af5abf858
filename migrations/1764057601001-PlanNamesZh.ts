import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plan names in Chinese, what buyers read (the order description on their WeChat Pay and Alipay
 * bills, the checkout page); `name` stays the English one. A plan without one is shown by `name`.
 */
export class PlanNamesZh1764057601001 implements MigrationInterface {
  name = 'PlanNamesZh1764057601001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "membership_plans" ADD "name_zh" character varying(64)`);
    await q.query(`
      UPDATE "membership_plans" AS p SET "name_zh" = v.name_zh
      FROM (VALUES
        ('basic_monthly',     '基础会员·月度'),
        ('basic_quarterly',   '基础会员·季度'),
        ('basic_yearly',      '基础会员·年度'),
        ('premium_monthly',   '高级会员·月度'),
        ('premium_quarterly', '高级会员·季度'),
        ('premium_yearly',    '高级会员·年度')
      ) AS v(code, name_zh)
      WHERE p."code" = v.code`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "membership_plans" DROP COLUMN "name_zh"`);
  }
}
