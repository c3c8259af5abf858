// ESLint for the whole repository: `npm run lint` (CI runs it before the tests).
// Style (quotes, commas, wrapping) is Prettier's business (`npm run format`), never a lint rule here.
// The rules are syntactic, without type information: the type-aware sets need a TypeScript program
// and made a lint run three to four times slower, so type errors stay `tsc`'s job (npm test, CI).
import js from '@eslint/js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { defineConfig } from 'eslint/config';

const ROOT = import.meta.dirname;

// Feature modules under src/: everything except the shared infrastructure (common, config) and the
// database wiring. A glob, so a new feature folder is covered without touching this file.
const FEATURE_MODULES = 'src/!(common|config|database)/**';

// Import boundaries, checked on resolved file paths (so `../..` chains and index imports count too).
// Each zone: files under `target` may not import files under `from`.
const srcIsSelfContained = {
  // The service ships alone: the provider sandbox, the tests, the benchmarks and the helper scripts
  // are development tools built on top of it, never something it loads.
  target: 'src',
  from: ['sandbox', 'test', 'bench', 'scripts'],
  message: 'src/ must not depend on development tools (sandbox/, test/, bench/, scripts/).',
};
const databaseImportsNoFeature = {
  // database/ is wiring (connection, options, migration runner) that every feature builds on; a
  // feature import here turns that around. Each feature module registers its own entities.
  target: 'src/database',
  from: FEATURE_MODULES,
  message: 'src/database must not import feature modules; a feature registers its entities from its module (TypeOrmModule.forFeature).',
};
const configIsTheGroundFloor = {
  // Everything reads the configuration first (the service, npm run token, npm run reconcile), so it
  // stands on nothing: a provider's settings (variables -> typed section) live in src/config/providers/,
  // its adapter in src/payments/providers/, and reading the configuration loads no provider SDK.
  target: 'src/config',
  from: FEATURE_MODULES,
  message:
    "src/config is the ground floor: it must not import feature modules (a provider's settings live in src/config/providers/, its adapter in src/payments/providers/).",
};
const commonIsBelowFeatures = {
  // common/ holds what every module leans on (errors, money, Beijing time, rate limits, the mark of
  // a public route); a feature import here (auth's guard, a payments type) would run every module
  // through that feature.
  target: 'src/common',
  from: FEATURE_MODULES,
  message: 'src/common sits below every feature module (auth included): what it needs of one belongs in common.',
};
const nothingImportsTheSchedule = {
  // The schedule runs each module's job and so imports those modules; a job importing the schedule
  // would close the cycle. What jobs share (their report type, a claim's lease) is in common/jobs/.
  target: 'src/!(scheduling)/**',
  from: 'src/scheduling',
  message: "Nothing imports src/scheduling (the schedule): a job is its module's service; what jobs share is in src/common/jobs/.",
};
const migrationsStandAlone = {
  // A migration is history: it must do the same on every database it ever runs on, so it holds its
  // own SQL and never follows code that keeps changing (entities, helpers, configuration).
  target: 'migrations',
  from: ['src', 'sandbox', 'test', 'bench', 'scripts'],
  message: 'A migration must not import application code: write its SQL out in the migration.',
};
const providersAreLeaves = {
  // A provider adapter only speaks its provider's protocol for payments (payment-provider.ts is its
  // contract): orders -> payments -> providers, so the flows above payments are out of its reach.
  target: 'src/payments/providers',
  from: ['src/orders', 'src/membership', 'src/notifications', 'src/scheduling', 'src/refunds', 'src/checkout', 'src/support'],
  message: 'A payment provider must not depend on the flows above payments.',
};
// Each provider's folder, read from the tree, so a new provider is covered without touching this file.
const PROVIDERS_DIR = 'src/payments/providers';
const PROVIDER_FOLDERS = readdirSync(join(ROOT, PROVIDERS_DIR), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);
const providersKeepToThemselves = PROVIDER_FOLDERS.map((name) => ({
  // A provider is one folder: removing or replacing it touches nothing in another provider's. What
  // two providers share is payments' contract (payment-provider.ts, payment-channel.ts, provider-bill.ts)
  // or common/, never one provider's code.
  target: `${PROVIDERS_DIR}/${name}`,
  from: PROVIDERS_DIR,
  except: [`./${name}`],
  message: "A payment provider must not import another provider's folder; shared code belongs to payments or common.",
}));
const membershipDoesNotCallPayments = {
  // Membership grants and revokes when orders' fulfilment asks it to; it knows nothing of how the
  // money moved.
  target: 'src/membership',
  from: 'src/payments',
  message: 'membership must not depend on payments (payments -> membership).',
};
const membershipDoesNotUseOrders = {
  // orders -> membership (price, grant, revoke), never the other way; the grant and period rows name
  // the Order entity in their foreign-key relation instead of importing it.
  target: 'src/membership',
  from: 'src/orders',
  message: 'membership must not depend on orders.',
};
const paymentsAndRefundsDoNotFulfil = {
  // Payments moves money and refunds return it; what follows for the member (a grant once paid, a
  // revoke once refunded in full) is orders' fulfilment, which payments reach through the PaidOrders
  // port and refunds through orders.
  target: ['src/payments', 'src/refunds'],
  from: 'src/membership',
  message: "payments and refunds must not depend on membership: granting and revoking is orders' fulfilment.",
};
const paymentsDoNotUseOrders = {
  // orders -> payments: orders ask payments for a payment; payments marks an order paid through the
  // PaidOrders port it declares and orders implement, never by importing orders.
  target: 'src/payments',
  from: ['src/orders', 'src/refunds', 'src/reconciliation', 'src/scheduling', 'src/checkout', 'src/notifications', 'src/support'],
  message: 'payments must not depend on orders or the flows above it (orders -> payments).',
};
const outboxKnowsNoWriterOrReader = {
  // The outbox sits below everything that appends to it (orders, payments, refunds) and everything
  // that reads it (notifications), so none of them can pull another in through it.
  target: 'src/outbox',
  from: [
    'src/orders',
    'src/payments',
    'src/refunds',
    'src/notifications',
    'src/scheduling',
    'src/reconciliation',
    'src/checkout',
    'src/support',
  ],
  message: 'The outbox must not depend on the modules that write or read it.',
};
const notificationsReadTheOutbox = {
  // Notifications deliver what the outbox holds; they never reach into the flows that wrote it.
  target: 'src/notifications',
  from: ['src/orders', 'src/payments', 'src/refunds', 'src/scheduling', 'src/reconciliation', 'src/checkout', 'src/support'],
  message: 'notifications read the outbox; they must not depend on the flows that write it.',
};
const supportIsOnTop = {
  // Support's read model reads across orders, payments, membership, refunds and the outbox; a
  // feature importing it would depend on all of them at once. Only the application's wiring does.
  target: 'src/!(support)/**',
  from: 'src/support',
  message: "Nothing imports support's read model (src/support): it sits above every module it reads.",
};
const subscriptionsAreOnTop = {
  // Auto-renewal builds on orders, payments and membership (a renewal is an order paid by a deduction),
  // so none of those may reach up into it; the contract notifications reach it through payments' router.
  target: ['src/orders', 'src/payments', 'src/membership', 'src/refunds', 'src/outbox', 'src/notifications', 'src/reconciliation'],
  from: 'src/subscriptions',
  message: 'subscriptions sit above orders and payments: nothing below may depend on them.',
};
const realtimeIsOnTop = {
  // Realtime (src/notifications: the member sockets and the service webhooks) consumes the outbox
  // and may read membership; nothing below it reaches up into it, so a flow that writes events
  // never waits on, or changes with, the way they are delivered.
  target: [
    'src/outbox',
    'src/membership',
    'src/orders',
    'src/payments',
    'src/refunds',
    'src/reconciliation',
    'src/scheduling',
    'src/checkout',
    'src/auth',
    'src/metrics',
    'src/health',
    'src/common',
    'src/config',
    'src/database',
  ],
  from: 'src/notifications',
  message: 'Nothing below realtime delivery (member sockets, service webhooks) may depend on src/notifications.',
};
const boundaries = [
  srcIsSelfContained,
  subscriptionsAreOnTop,
  paymentsDoNotUseOrders,
  outboxKnowsNoWriterOrReader,
  notificationsReadTheOutbox,
  realtimeIsOnTop,
  providersAreLeaves,
  ...providersKeepToThemselves,
  membershipDoesNotCallPayments,
  membershipDoesNotUseOrders,
  paymentsAndRefundsDoNotFulfil,
  supportIsOnTop,
  databaseImportsNoFeature,
  configIsTheGroundFloor,
  commonIsBelowFeatures,
  nothingImportsTheSchedule,
  migrationsStandAlone,
];

export default defineConfig(
  {
    ignores: ['node_modules/', 'dist/', 'dist-sandbox/', 'coverage/', 'data/', 'test-artifacts/', 'bench/results/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Node's own resolution (what ts-node and the build do), with the TypeScript sources first.
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.js', '.json', '.node'], conditionNames: ['node', 'require', 'import', 'default'] }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: ROOT, zones: boundaries }],
      // The boundaries above are checked only on imports the resolver finds: every import must resolve,
      // so a resolver that stopped finding files fails loudly instead of letting the boundaries pass.
      'import-x/no-unresolved': 'error',
    },
  },
  {
    rules: {
      // Underscore marks a parameter or binding kept on purpose (a callback's position, a rest sibling).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Tests read JSON bodies and SDK replies whose shape is what the assertions themselves check;
    // typing each of them first would only restate the assertions.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The checkout page: plain ES modules run by the browser, type-checked by web/tsconfig.json.
    files: ['web/**/*.js'],
    languageOptions: { sourceType: 'module', globals: globals.browser },
  },
  {
    // Plain ES modules run by Node before anything is built (npm start's build step).
    files: ['scripts/**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: globals.node },
  },
  {
    // Jest configuration files are CommonJS run by Node.
    files: ['**/*.config.js', 'jest.*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
