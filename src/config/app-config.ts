import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { isLoopbackUrl } from '../common/net';
import { ConfigError, type ConfigProblem } from './config-error';
import { EnvSchema } from './env.schema';
import { httpsInProduction, splitList } from './provider-settings';
import { PROVIDER_SETTINGS_ENTRIES, type ProviderConfigs } from './providers/provider-sections';

export { ConfigError, type ConfigProblem } from './config-error';

/**
 * The providers' sections as optional fields, each under its provider's name (`config.wechat`,
 * `config.alipay`; absent: the provider is off), typed from the providers' settings: a provider
 * added there gets its field without a line here.
 */
const ProviderSections = class {} as new () => ProviderConfigs;

/** The one typed configuration object; injected wherever configuration is needed. */
export class AppConfig extends ProviderSections {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  logLevel: string;
  dataDir: string;
  /** Absent: the database module starts the embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  jwtSecret: string;
  orderExpireMinutes: number;
  qrCodeExpireMinutes: number;
  paymentQueryRetryMax: number;
  providerTimeoutMs: number;
  /** Auto-renewal: the renewal job's interval, the tries per cycle, the grace after a failure. */
  renewalJobMinutes: number;
  renewalRetryMax: number;
  renewalGraceDays: number;
  /** create-order requests per user per minute. */
  createOrderRateLimit: number;
  /** Beijing time of day (HH:mm) from which the previous day's bills are reconciled. */
  reconciliationAt: string;
  redisUrl?: string;
  /** Service processes (WEB_CONCURRENCY): more than 1 runs a cluster primary and that many workers. */
  workers: number;
  corsOrigins: string[];
  /** Origins a client's return_url (H5, WAP, page) may point at. */
  returnUrlOrigins: string[];
  /** Where the API listens (HOST; 127.0.0.1 outside production unless set). */
  host: string;
  /** /metrics and /api/docs on a port of their own, off the API port. */
  opsPort?: number;
  /** Express's `trust proxy` setting, from TRUST_PROXY. */
  trustProxy: boolean | number | string[];
  orderActionRateLimit: number;
  publicRateLimit: number;
  authFailureRateLimit: number;
  callbackRateLimit: number;
  wsConnectionsPerUser: number;
  /** Service webhooks: the retry schedule's unit (one minute unless a test shrinks it) and the answer timeout. */
  webhookRetryBaseMs: number;
  webhookTimeoutMs: number;
  jwtMaxTtlSeconds: number;
  jwtIssuer?: string;
  jwtAudience?: string;
  /** True when the providers point at the local sandbox (set by the development launcher). */
  sandbox: boolean;

  get isProduction(): boolean {
    return this.nodeEnv === 'production';
  }

  /** Secrets never leave the process through JSON or util.inspect. */
  toJSON(): Record<string, unknown> {
    return {
      nodeEnv: this.nodeEnv,
      port: this.port,
      dataDir: this.dataDir,
      database: this.databaseUrl ? 'external' : 'embedded',
      sandbox: this.sandbox,
      ...Object.fromEntries(
        PROVIDER_SETTINGS_ENTRIES.map(([name, settings]) => {
          const section = this[name];
          return [name, section ? settings.summary(section) : 'off'];
        }),
      ),
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}

const truthy = (v?: string) => v === '1' || v === 'true';

export function buildAppConfig(env: Record<string, string | undefined>): AppConfig {
  const defined = pickDefined(env);
  const schema = plainToInstance(EnvSchema, defined);
  // Each provider's variables have their own schema, validated with the service's before anything is built.
  const providerEnvs = PROVIDER_SETTINGS_ENTRIES.map(([, settings]) => plainToInstance(settings.schema, defined));
  const problems: ConfigProblem[] = [schema, ...providerEnvs]
    .flatMap((validated) => validateSync(validated, { stopAtFirstError: true }))
    .map((e) => ({
      variable: e.property,
      problem: Object.values(e.constraints ?? {})
        .map((m) => m.replace(`${e.property} `, ''))
        .join(', '),
    }));
  // Every problem in one pass: what follows is still checked, each value on its own. A provider is
  // built without its malformed variables (which must not reach its key loading or URL parsing),
  // and what that build says of a variable already reported malformed is not said again.
  const malformed = new Set(problems.map((p) => p.variable));
  const reported = problems.length;
  for (const env of providerEnvs)
    for (const name of Object.keys(env)) if (malformed.has(name)) delete (env as Record<string, unknown>)[name];

  const cfg = new AppConfig();
  cfg.nodeEnv = schema.NODE_ENV;
  cfg.port = schema.PORT;
  cfg.logLevel = schema.LOG_LEVEL;
  cfg.dataDir = isAbsolute(schema.DATA_DIR) ? schema.DATA_DIR : resolve(schema.DATA_DIR);
  cfg.databaseUrl = schema.DATABASE_URL;
  cfg.orderExpireMinutes = schema.ORDER_EXPIRE_MINUTES;
  cfg.qrCodeExpireMinutes = schema.QR_CODE_EXPIRE_MINUTES;
  cfg.paymentQueryRetryMax = schema.PAYMENT_QUERY_RETRY_MAX;
  cfg.providerTimeoutMs = schema.PROVIDER_TIMEOUT_MS;
  cfg.renewalJobMinutes = schema.RENEWAL_JOB_MINUTES;
  cfg.renewalRetryMax = schema.RENEWAL_RETRY_MAX;
  cfg.renewalGraceDays = schema.RENEWAL_GRACE_DAYS;
  cfg.redisUrl = schema.REDIS_URL;
  cfg.workers = schema.WEB_CONCURRENCY;
  cfg.createOrderRateLimit = schema.CREATE_ORDER_RATE_LIMIT;
  cfg.reconciliationAt = schema.RECONCILIATION_AT;
  cfg.corsOrigins = (schema.CORS_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  cfg.host = schema.HOST ?? (schema.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
  cfg.opsPort = schema.OPS_PORT;
  if (cfg.opsPort !== undefined && cfg.opsPort !== 0 && cfg.opsPort === cfg.port) {
    problems.push({ variable: 'OPS_PORT', problem: 'must differ from PORT (it keeps /metrics and /api/docs off the API port)' });
  }
  cfg.trustProxy = trustProxy(schema.TRUST_PROXY);
  cfg.orderActionRateLimit = schema.ORDER_ACTION_RATE_LIMIT;
  cfg.publicRateLimit = schema.PUBLIC_RATE_LIMIT;
  cfg.authFailureRateLimit = schema.AUTH_FAILURE_RATE_LIMIT;
  cfg.callbackRateLimit = schema.CALLBACK_RATE_LIMIT;
  cfg.wsConnectionsPerUser = schema.WS_CONNECTIONS_PER_USER;
  cfg.webhookRetryBaseMs = schema.WEBHOOK_RETRY_BASE_MS;
  cfg.webhookTimeoutMs = schema.WEBHOOK_TIMEOUT_MS;
  cfg.jwtMaxTtlSeconds = schema.JWT_MAX_TTL_SECONDS;
  cfg.jwtIssuer = schema.JWT_ISSUER;
  cfg.jwtAudience = schema.JWT_AUDIENCE;
  cfg.sandbox = truthy(schema.PAYMENT_SANDBOX);
  cfg.returnUrlOrigins = collectOrigins(schema.PAYMENT_RETURN_URL_ORIGINS, problems);

  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
      return undefined;
    }
  };
  PROVIDER_SETTINGS_ENTRIES.forEach(([name, settings], i) =>
    Object.assign(cfg, { [name]: collect(() => settings.build(providerEnvs[i])) }),
  );
  problems.push(...productionProblems(cfg, schema));
  if (problems.length)
    throw new ConfigError(
      problems.filter((p, i) => i < reported || !malformed.has(p.variable)),
      cfg,
    );
  cfg.jwtSecret = schema.JWT_SECRET ?? developmentJwtSecret(cfg.dataDir);
  return cfg;
}

function productionProblems(cfg: AppConfig, schema: EnvSchema): ConfigProblem[] {
  if (!cfg.isProduction) return [];
  const out: ConfigProblem[] = [];
  if (!schema.JWT_SECRET) out.push({ variable: 'JWT_SECRET', problem: 'is required in production' });
  if (cfg.sandbox) out.push({ variable: 'PAYMENT_SANDBOX', problem: 'the provider sandbox is refused in production' });
  if (!cfg.databaseUrl && !truthy(schema.ALLOW_EMBEDDED_DB_IN_PRODUCTION)) {
    out.push({ variable: 'DATABASE_URL', problem: 'is required in production (or set ALLOW_EMBEDDED_DB_IN_PRODUCTION=1)' });
  }
  for (const [name, settings] of PROVIDER_SETTINGS_ENTRIES) {
    const section = cfg[name];
    if (!section) continue;
    out.push(...httpsInProduction(...settings.notifyUrl(section)));
    const [variable, url] = settings.apiUrl(section);
    if (isLoopbackUrl(url)) out.push({ variable, problem: 'points at a local sandbox, refused in production' });
    // Requests and answers are signed, not encrypted: over http anyone on the path reads them.
    else out.push(...httpsInProduction(variable, url));
    out.push(...settings.productionProblems(section));
  }
  if (!cfg.jwtIssuer) out.push({ variable: 'JWT_ISSUER', problem: 'is required in production' });
  if (!cfg.jwtAudience) out.push({ variable: 'JWT_AUDIENCE', problem: 'is required in production' });
  return out;
}

/** TRUST_PROXY as Express takes it: a boolean, a hop count, or a list of trusted addresses. */
function trustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Development only: a JWT secret generated once and kept under DATA_DIR (see `npm run token`). */
export function developmentJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(48).toString('base64url');
  try {
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch {
    return readFileSync(file, 'utf8').trim(); // another process created it first
  }
}

/** Only our variables reach the schema, so unrelated environment never fails validation. */
function pickDefined(env: Record<string, string | undefined>): Record<string, string> {
  const known = new Set(Object.keys(new EnvSchema()));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (
      v !== undefined &&
      (known.has(k) || PROVIDER_SETTINGS_ENTRIES.some(([, settings]) => k.startsWith(settings.envPrefix)) || OPTIONAL_VARIABLES.includes(k))
    )
      out[k] = v;
  }
  return out;
}

const OPTIONAL_VARIABLES = [
  'DATABASE_URL',
  'JWT_SECRET',
  'REDIS_URL',
  'CORS_ORIGINS',
  'ALLOW_EMBEDDED_DB_IN_PRODUCTION',
  'PAYMENT_SANDBOX',
  'PAYMENT_SANDBOX_PROVIDERS',
  'HOST',
  'OPS_PORT',
  'TRUST_PROXY',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'PAYMENT_RETURN_URL_ORIGINS',
];

/** `https://m.example.com` style origins; anything with a path, query or credentials is refused. */
function collectOrigins(value: string | undefined, problems: ConfigProblem[]): string[] {
  const origins: string[] = [];
  for (const item of splitList(value)) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== item.replace(/\/$/, '').toLowerCase()) {
      problems.push({ variable: 'PAYMENT_RETURN_URL_ORIGINS', problem: 'must be origins like https://m.example.com, comma-separated' });
      return [];
    }
    origins.push(url.origin);
  }
  return origins;
}
