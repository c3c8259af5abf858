import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface Probe {
  /** Where the probed code would live (it is linted as text, never written). */
  file: string;
  imports: string;
}

// ESLint loads eslint.config.mjs with import(), which Jest's module sandbox cannot do: the probes
// are linted in a child Node process, all in one go.
const LINT_PROBES = `
const { ESLint } = require('eslint');
(async () => {
  const probes = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const p of probes) {
    const code = p.imports.split(',').map((s, i) => "import * as m" + i + " from '" + s.trim() + "';\\nexport const x" + i + " = m" + i + ";").join('\\n') + '\\n';
    const [result] = await eslint.lintText(code, { filePath: p.file });
    out.push(result.messages.map((m) => ({ rule: m.ruleId, line: m.line })));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function lint(probes: Probe[]): { rule: string | null; line: number }[][] {
  const out = execFileSync(process.execPath, ['-e', LINT_PROBES], { cwd: ROOT, input: JSON.stringify(probes), encoding: 'utf8' });
  return JSON.parse(out);
}

/** The rule each probe's imports break, line by line (null: the import is allowed). */
function verdicts(probes: Probe[]): (string | null)[][] {
  return lint(probes).map((messages, i) =>
    probes[i].imports.split(',').map((_, line) => messages.find((m) => m.line === 2 * line + 1)?.rule ?? null),
  );
}

const BOUNDARY = 'import-x/no-restricted-paths';

/** The import boundaries of eslint.config.mjs hold on resolved paths and fail on a new violation. */
describe('lint: import boundaries', () => {
  it('reports each forbidden direction and lets the allowed ones through', () => {
    const probes: Probe[] = [
      // src never loads the development tools
      { file: 'src/common/probe.ts', imports: '../../sandbox/clock, ../../test/support/app, ../../bench/stats, ./money' },
      // database/ imports no feature module, only shared infrastructure
      {
        file: 'src/database/probe.ts',
        imports: '../orders/order.entity, ../payments/payment-record.entity, ../config/app-config, ../common/money',
      },
      // ...with no exception: the migrations (not feature code) yes, an entity not even in the options
      { file: 'src/database/typeorm-options.ts', imports: '../../migrations, ../refunds/refund.entity' },
      // a migration imports no application code, only other migrations
      { file: 'migrations/probe.ts', imports: '../src/orders/order.entity, ../src/common/money, ./1764057600005-SettleAttemptFunction' },
      // a provider stays below payments
      {
        file: 'src/payments/providers/wechat/probe.ts',
        imports: '../../../orders/order.entity, ../../../membership/membership.service, ../../payment-provider, ../../../common/money',
      },
      // membership depends on neither payments nor orders, its entities included
      { file: 'src/membership/probe.ts', imports: '../payments/payment-record.entity, ../orders/order.entity, ../common/money' },
      { file: 'src/membership/probe.entity.ts', imports: '../orders/order.entity, ../orders/orders.service' },
      // payments sit below orders (a port, paid-orders, instead of an import) and never fulfil (membership)
      {
        file: 'src/payments/probe.ts',
        imports:
          '../orders/orders.service, ../refunds/refunds.service, ./paid-orders, ../membership/membership.service, ../outbox/order-events',
      },
      // the outbox knows neither its writers nor its reader; notifications read only the outbox
      {
        file: 'src/outbox/probe.ts',
        imports: '../orders/order.entity, ../payments/payments.service, ../notifications/socket-events, ../database/prepared-query',
      },
      { file: 'src/notifications/probe.ts', imports: '../orders/orders.service, ../payments/payments.service, ../outbox/order-events' },
      // the service webhooks read the outbox and membership; nothing below them reaches them
      {
        file: 'src/notifications/webhooks/probe.ts',
        imports: '../../refunds/refunds.service, ../../outbox/outbox.repository, ../../membership/entitlement',
      },
      {
        file: 'src/membership/probe-webhooks.ts',
        imports: '../notifications/webhooks/webhook-dispatcher, ../notifications/notifications.gateway',
      },
      { file: 'src/refunds/probe.ts', imports: '../notifications/webhooks/webhook-event-types, ../outbox/order-events' },
    ];
    expect(verdicts(probes)).toEqual([
      [BOUNDARY, BOUNDARY, BOUNDARY, null],
      [BOUNDARY, BOUNDARY, null, null],
      [null, BOUNDARY],
      [BOUNDARY, BOUNDARY, null],
      [BOUNDARY, BOUNDARY, null, null],
      [BOUNDARY, BOUNDARY, null],
      [BOUNDARY, BOUNDARY],
      [BOUNDARY, BOUNDARY, null, BOUNDARY, null],
      [BOUNDARY, BOUNDARY, BOUNDARY, null],
      [BOUNDARY, BOUNDARY, null],
      [BOUNDARY, null, null],
      [BOUNDARY, BOUNDARY],
      [BOUNDARY, null],
    ]);
  });

  it('keeps each provider folder to itself', () => {
    expect(
      verdicts([
        { file: 'src/payments/providers/wechat/probe.ts', imports: '../alipay/alipay.mapper, ./wechat-pay.mapper, ../../payment-channel' },
        { file: 'src/payments/providers/alipay/probe.ts', imports: '../wechat/wechat-pay.errors, ./alipay.mapper, ../../../common/money' },
        {
          file: 'src/payments/provider-catalog-probe.ts',
          imports: './providers/wechat/wechat-pay.descriptor, ./providers/alipay/alipay.descriptor',
        },
      ]),
    ).toEqual([
      [BOUNDARY, null, null],
      [BOUNDARY, null, null],
      [null, null],
    ]);
  });

  it("keeps support's read model on top: it reads every module, nothing imports it", () => {
    expect(
      verdicts([
        {
          file: 'src/support/probe.ts',
          imports: '../orders/order-status, ../refunds/refunds.service, ../payments/provider-name, ../membership/membership.views',
        },
        { file: 'src/refunds/probe.ts', imports: '../support/console-read.repository' },
        { file: 'src/orders/probe.ts', imports: '../support/support.module' },
        { file: 'src/payments/probe.ts', imports: '../support/admin-order.view' },
        { file: 'src/app.module.ts', imports: './support/support.module' },
      ]),
    ).toEqual([[null, null, null, null], [BOUNDARY], [BOUNDARY], [BOUNDARY], [null]]);
  });

  it("leaves granting and revoking to orders' fulfilment: neither payments nor refunds import membership", () => {
    expect(
      verdicts([
        {
          file: 'src/refunds/probe.ts',
          imports: '../membership/membership.service, ../membership/membership.views, ../orders/orders.service',
        },
        { file: 'src/payments/providers/alipay/probe.ts', imports: '../../../membership/membership-plan.entity' },
        { file: 'src/orders/probe.ts', imports: '../membership/membership.service' },
      ]),
    ).toEqual([[BOUNDARY, BOUNDARY, null], [BOUNDARY], [null]]);
  });

  it('keeps config and common below every feature', () => {
    expect(
      verdicts([
        // config: settings, never adapters, nor config:check (which lists the providers' channels)
        {
          file: 'src/config/probe.ts',
          imports:
            '../payments/provider-catalog, ../payments/providers/wechat/wechat-pay.provider, ../ops/config-check, ../auth/token.service, ../common/net, ./providers/provider-sections',
        },
        { file: 'src/config/providers/probe.ts', imports: '../../payments/provider-descriptor, ../provider-settings' },
        // common: nothing of auth (the public-route mark is common's own) nor of any other feature
        { file: 'src/common/probe.ts', imports: '../auth/auth.guard, ../payments/payment-provider, ../config/app-config, ./public-route' },
        { file: 'src/common/rate-limit/probe.ts', imports: '../../auth/auth.guard, ../public-route' },
      ]),
    ).toEqual([
      [BOUNDARY, BOUNDARY, BOUNDARY, BOUNDARY, null, null],
      [BOUNDARY, null],
      [BOUNDARY, BOUNDARY, null, null],
      [BOUNDARY, null],
    ]);
  });

  it("keeps each job with its module: nothing but the application's wiring imports the schedule", () => {
    expect(
      verdicts([
        {
          file: 'src/refunds/probe.job.ts',
          imports: '../scheduling/scheduling.cron, ../common/jobs/job-report, ../common/jobs/claim-lease',
        },
        { file: 'src/orders/probe.job.ts', imports: '../scheduling/scheduling.module, ../payments/query-payments.job' },
        { file: 'src/reconciliation/probe.ts', imports: '../scheduling/scheduling.cron' },
        { file: 'src/common/jobs/probe.ts', imports: '../../scheduling/scheduling.cron' },
        { file: 'src/scheduling/probe.ts', imports: './scheduling.cron, ../orders/expire-orders.job, ../common/jobs/job-report' },
        { file: 'src/app.module.ts', imports: './scheduling/scheduling.module' },
      ]),
    ).toEqual([[BOUNDARY, null, null], [BOUNDARY, null], [BOUNDARY], [BOUNDARY], [null, null, null], [null]]);
  });

  it('keeps the subscriptions module on top of orders and payments', () => {
    expect(
      verdicts([
        { file: 'src/orders/probe.ts', imports: '../subscriptions/subscriptions.service, ../payments/agreements' },
        { file: 'src/payments/probe.ts', imports: '../subscriptions/contract.entity' },
        {
          file: 'src/subscriptions/probe.ts',
          imports: '../payments/agreement-registry, ../orders/order.entity, ../membership/membership-plan.entity',
        },
      ]),
    ).toEqual([[BOUNDARY, null], [BOUNDARY], [null, null, null]]);
  });

  it('fails an import it cannot resolve rather than letting it past the boundaries', () => {
    expect(verdicts([{ file: 'src/payments/probe.ts', imports: './no-such-file, ../sandbox-typo/clock' }])).toEqual([
      ['import-x/no-unresolved', 'import-x/no-unresolved'],
    ]);
  });
});
