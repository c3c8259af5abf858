/**
 * `npm run config:check` (in an image: `node dist/src/ops/config-check.js`): what ops run before a
 * start. Prints what is set, missing and malformed for each area and whether each provider is
 * live, sandbox or off; secrets are masked. Exit 0 when the configuration can start.
 * The validation is buildAppConfig, the very code the service runs at boot.
 */
import { getMetadataStorage } from 'class-validator';
import { Client } from 'pg';
import { AppConfig, buildAppConfig, ConfigError, ConfigProblem } from '../config/app-config';
import { readEnvironment } from '../config/config.module';
import { EnvSchema, SECRET_VARIABLES } from '../config/env.schema';
import { parseArgs } from 'node:util';
import { redactUrl, redactUrlsIn } from '../common/redact-url';
import { findService } from '../config/service-setup';
import { PROVIDER_DESCRIPTORS } from '../payments/provider-catalog';
import type { ProviderDescriptor } from '../payments/provider-descriptor';

type Env = Record<string, string | undefined>;
const DEFAULTS = new EnvSchema();

/** The variables a schema validates, in the order it declares them. */
const schemaVariables = (schema: new () => object): string[] => [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(schema, '', true, false)
      .map((m) => m.propertyName),
  ),
];

/** Each area's title and variables; a provider's area is titled by its label and shows its mode. */
const AREAS: [string, string[], ProviderDescriptor?][] = [
  [
    'Service',
    [
      'NODE_ENV',
      'HOST',
      'PORT',
      'OPS_PORT',
      'TRUST_PROXY',
      'LOG_LEVEL',
      'DATA_DIR',
      'CORS_ORIGINS',
      'REDIS_URL',
      'PAYMENT_SANDBOX_PROVIDERS',
    ],
  ],
  ['Database', ['DATABASE_URL', 'ALLOW_EMBEDDED_DB_IN_PRODUCTION']],
  ['Auth', ['JWT_SECRET', 'JWT_MAX_TTL_SECONDS', 'JWT_ISSUER', 'JWT_AUDIENCE']],
  ['Limits', ['CREATE_ORDER_RATE_LIMIT', 'ORDER_ACTION_RATE_LIMIT', 'PUBLIC_RATE_LIMIT', 'CALLBACK_RATE_LIMIT', 'WS_CONNECTIONS_PER_USER']],
  ['Orders', ['ORDER_EXPIRE_MINUTES', 'QR_CODE_EXPIRE_MINUTES', 'PAYMENT_QUERY_RETRY_MAX', 'PROVIDER_TIMEOUT_MS']],
  ['Reconciliation', ['RECONCILIATION_AT']],
  ...PROVIDER_DESCRIPTORS.map((d): [string, string[], ProviderDescriptor] => [d.label, schemaVariables(d.settings.schema), d]),
  ['Channels', ['PAYMENT_RETURN_URL_ORIGINS']],
];
const SECRETS = new Set([...SECRET_VARIABLES, ...PROVIDER_DESCRIPTORS.flatMap((d) => d.settings.secrets)]);

export function maskValue(name: string, value: string): string {
  if (name === 'DATABASE_URL' || name === 'REDIS_URL') return redactUrl(value);
  if (SECRETS.has(name)) return `(set, ${Buffer.byteLength(value)} bytes, masked)`;
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

function providerMode(config: AppConfig | undefined, provider: ProviderDescriptor, problems: ConfigProblem[]): string {
  if (problems.some((p) => p.variable.startsWith(provider.settings.envPrefix))) return 'misconfigured';
  const section = config?.[provider.name];
  if (!section) return 'off';
  const [, url] = provider.settings.apiUrl(section);
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(`${url}/`);
  if (config!.sandbox || local) return 'sandbox (local emulator)';
  if (provider.settings.providerSandbox?.test(url)) return `sandbox (${provider.label} sandbox gateway)`;
  return 'live';
}

async function checkDatabase(url: string | undefined): Promise<string | ConfigProblem> {
  if (!url) return 'embedded PostgreSQL under DATA_DIR (started by the service)';
  if (!/^postgres(ql)?:\/\//.test(url)) return { variable: 'DATABASE_URL', problem: 'is not a postgres:// URL' };
  let client: Client;
  try {
    new URL(url);
    client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  } catch {
    // The parser's message quotes the URL, password included: say what is wrong, never the value.
    return { variable: 'DATABASE_URL', problem: 'cannot be parsed as a URL (a password with @, / or # must be percent-encoded)' };
  }
  try {
    await client.connect();
    const { rows } = await client.query('SHOW server_version');
    return `reachable (PostgreSQL ${rows[0].server_version})`;
  } catch (e) {
    return { variable: 'DATABASE_URL', problem: `cannot be reached (${(e as { code?: string }).code ?? 'connection failed'})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function checkConfiguration(env: Env): Promise<{ report: string; ok: boolean }> {
  const lines: string[] = [];
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  let config: AppConfig | undefined;
  try {
    config = buildAppConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
    // Shown as far as it could be built: a provider whose own settings hold is still live, sandbox or off.
    config = e.partial as AppConfig | undefined;
  }
  const bad = new Set(problems.map((p) => p.variable));
  lines.push(`memberpay configuration check (NODE_ENV=${env.NODE_ENV ?? 'development'})`, '');
  for (const [area, names, provider] of AREAS) {
    const mode = provider ? `: ${providerMode(config, provider, problems)}` : '';
    lines.push(`${area}${mode}`);
    for (const name of names) {
      const value = env[name];
      const fallback = (DEFAULTS as unknown as Record<string, unknown>)[name];
      const state =
        value === undefined || value === '' ? `not set${fallback !== undefined ? ` (default ${fallback})` : ''}` : maskValue(name, value);
      lines.push(`  ${bad.has(name) ? '✗' : value ? '✓' : '·'} ${name.padEnd(32)} ${state}`);
    }
    lines.push('');
  }
  const db = bad.has('DATABASE_URL') ? null : await checkDatabase(env.DATABASE_URL || undefined);
  if (typeof db === 'string') lines.splice(lines.indexOf('Database') + 1, 0, `  ✓ ${'connection'.padEnd(32)} ${db}`);
  else if (db) problems.push(db);
  if (config) {
    for (const d of PROVIDER_DESCRIPTORS) {
      const section = config[d.name];
      const [variable, url] = section ? d.settings.notifyUrl(section) : [];
      if (url && !url.startsWith('https://')) warnings.push(`${variable} is not https: fine for the local sandbox, refused in production`);
    }
    for (const d of PROVIDER_DESCRIPTORS) {
      if (!config[d.name] && !config.isProduction)
        warnings.push(`${d.label} is not configured: \`npm start\` runs the local sandbox in its place`);
    }
    lines.splice(lines.indexOf('Channels') + 1, 0, ...channelLines(config));
    warnings.push(...channelWarnings(config));
    if (!env.JWT_SECRET && !config.isProduction) warnings.push('JWT_SECRET is not set: a development secret kept under DATA_DIR is used');
    warnings.push(...productionWarnings(config, env));
  }
  for (const w of warnings) lines.push(`warning: ${w}`);
  for (const p of problems) lines.push(`problem: ${p.variable} ${p.problem}`);
  const ok = problems.length === 0;
  lines.push('', ok ? 'OK: this configuration can start.' : `NOT OK: ${problems.length} problem(s); the service would refuse to start.`);
  return { report: lines.join('\n'), ok };
}

/** Which channels each configured provider offers, and what turns on the others. */
function channelLines(config: AppConfig): string[] {
  const lines: string[] = [];
  for (const d of PROVIDER_DESCRIPTORS) {
    const section = config[d.name];
    if (!section) continue;
    const on: readonly string[] = d.enabledChannels(section);
    for (const [channel, spec] of Object.entries(d.channels)) {
      lines.push(
        `  ${on.includes(channel) ? '✓' : '·'} ${`${d.label} ${channel}`.padEnd(32)} ${on.includes(channel) ? 'on' : `off (set ${spec.enabledBy})`}`,
      );
    }
  }
  return lines;
}

/** Settings that are no problem for the service to start with, but make no sense in production. */
function productionWarnings(config: AppConfig, env: Env): string[] {
  if (!config.isProduction) return [];
  const out: string[] = [];
  if (env.PAYMENT_SANDBOX_PROVIDERS) {
    out.push('PAYMENT_SANDBOX_PROVIDERS is set: production never starts the provider sandbox, so it does nothing; remove it');
  }
  if (config.opsPort === undefined) {
    out.push('OPS_PORT is not set: /metrics and /api/docs are served on the public API port; set OPS_PORT to keep them off it');
  }
  return out;
}

function channelWarnings(config: AppConfig): string[] {
  const out: string[] = [];
  for (const d of PROVIDER_DESCRIPTORS) {
    const section = config[d.name];
    if (section) out.push(...d.settings.checkWarnings(section));
  }
  for (const origin of config.returnUrlOrigins) {
    if (!origin.startsWith('https://'))
      out.push(`PAYMENT_RETURN_URL_ORIGINS has a plain http origin (${origin}): fine for development only`);
  }
  return out;
}

const USAGE = `usage: npm run config:check [-- --help]

Checks the configuration the service would start with (the environment over ./.env, and the setup
of the service \`npm start\` runs, as the tools find it): every problem in one run, secrets masked.
Exit status: 0 it can start, 1 it would refuse to, 2 the check itself failed.
`;

if (require.main === module) {
  try {
    if (parseArgs({ options: { help: { type: 'boolean', short: 'h' } } }).values.help) {
      process.stdout.write(USAGE);
      process.exit(0);
    }
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  new Promise<Env>((resolve) => resolve(findService(readEnvironment()).env))
    .then((env) => checkConfiguration(env))
    .then(
      ({ report, ok }) => {
        process.stdout.write(`${report}\n`);
        process.exit(ok ? 0 : 1);
      },
      (e) => {
        process.stderr.write(`config check failed: ${redactUrlsIn((e as Error).message)}\n`);
        process.exit(2);
      },
    );
}
