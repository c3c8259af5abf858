/**
 * `npm run config:check` (in an image: `node dist/config/config-check.js`): what ops run before a
 * start. Prints what is set, missing and malformed for each area and whether each provider is
 * live, sandbox or off; secrets are masked. Exit 0 when the configuration can start.
 * The validation is buildAppConfig, the very code the service runs at boot.
 */
import { Client } from 'pg';
import { AppConfig, buildAppConfig, ConfigError, ConfigProblem } from './app-config';
import { readEnvironment } from './config.module';
import { EnvSchema, SECRET_VARIABLES } from './env.schema';
import { redactUrl } from '../common/redact-url';
import type { ChannelDescriptor } from '../payments/payment-channel';
import { ALIPAY_CHANNELS, alipayEnabledChannels } from '../payments/providers/alipay/alipay.channels';
import { WECHAT_CHANNELS, wechatEnabledChannels } from '../payments/providers/wechat/wechat-pay.channels';

type Env = Record<string, string | undefined>;
const DEFAULTS = new EnvSchema();

const AREAS: [string, string[]][] = [
  ['Service', ['NODE_ENV', 'HOST', 'PORT', 'OPS_PORT', 'TRUST_PROXY', 'LOG_LEVEL', 'DATA_DIR', 'CORS_ORIGINS', 'REDIS_URL', 'PAYMENT_SANDBOX_PROVIDERS']],
  ['Database', ['DATABASE_URL', 'ALLOW_EMBEDDED_DB_IN_PRODUCTION']],
  ['Auth', ['JWT_SECRET', 'JWT_MAX_TTL_SECONDS', 'JWT_ISSUER', 'JWT_AUDIENCE']],
  ['Limits', ['CREATE_ORDER_RATE_LIMIT', 'ORDER_ACTION_RATE_LIMIT', 'PUBLIC_RATE_LIMIT', 'CALLBACK_RATE_LIMIT', 'WS_CONNECTIONS_PER_USER']],
  ['Orders', ['ORDER_EXPIRE_MINUTES', 'QR_CODE_EXPIRE_MINUTES', 'PAYMENT_QUERY_RETRY_MAX', 'PROVIDER_TIMEOUT_MS']],
  ['Reconciliation', ['RECONCILIATION_AT']],
  ['WeChat Pay', ['WECHAT_PAY_APP_ID', 'WECHAT_PAY_MCH_ID', 'WECHAT_PAY_API_V3_KEY', 'WECHAT_PAY_NOTIFY_URL', 'WECHAT_PAY_PRIVATE_KEY_PATH',
    'WECHAT_PAY_CERT_PATH', 'WECHAT_PAY_CERT_SERIAL_NO', 'WECHAT_PAY_PUBLIC_KEY_PATH', 'WECHAT_PAY_PUBLIC_KEY_ID',
    'WECHAT_PAY_PLATFORM_CERT_PATH', 'WECHAT_PAY_BASE_URL', 'WECHAT_PAY_API_KEY', 'WECHAT_PAY_REFUND_NOTIFY_URL',
    'WECHAT_PAY_APP_APP_ID', 'WECHAT_PAY_JSAPI_APP_IDS', 'WECHAT_PAY_H5_REDIRECT_URL']],
  ['Alipay', ['ALIPAY_APP_ID', 'ALIPAY_PRIVATE_KEY', 'ALIPAY_PUBLIC_KEY', 'ALIPAY_GATEWAY', 'ALIPAY_NOTIFY_URL', 'ALIPAY_RETURN_URL', 'ALIPAY_SELLER_ID',
    'ALIPAY_CHANNELS']],
  ['Channels', ['PAYMENT_RETURN_URL_ORIGINS']],
];

export function maskValue(name: string, value: string): string {
  if (name === 'DATABASE_URL' || name === 'REDIS_URL') return redactUrl(value);
  if (SECRET_VARIABLES.has(name)) return `(set, ${Buffer.byteLength(value)} bytes, masked)`;
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

function providerMode(config: AppConfig | undefined, which: 'wechat' | 'alipay', problems: ConfigProblem[]): string {
  const prefix = which === 'wechat' ? 'WECHAT_PAY_' : 'ALIPAY_';
  if (problems.some((p) => p.variable.startsWith(prefix))) return 'misconfigured';
  const p = config?.[which];
  if (!p) return 'off';
  const url = which === 'wechat' ? config!.wechat!.baseUrl : config!.alipay!.gateway;
  const local = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(`${url}/`);
  if (config!.sandbox || local) return 'sandbox (local emulator)';
  if (/alipaydev\.com/.test(url)) return 'sandbox (Alipay sandbox gateway)';
  return 'live';
}

async function checkDatabase(url: string | undefined): Promise<string | ConfigProblem> {
  if (!url) return 'embedded PostgreSQL under DATA_DIR (started by the service)';
  if (!/^postgres(ql)?:\/\//.test(url)) return { variable: 'DATABASE_URL', problem: 'is not a postgres:// URL' };
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
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
  }
  const bad = new Set(problems.map((p) => p.variable));
  lines.push(`memberpay configuration check (NODE_ENV=${env.NODE_ENV ?? 'development'})`, '');
  for (const [area, names] of AREAS) {
    const mode = area === 'WeChat Pay' ? `: ${providerMode(config, 'wechat', problems)}`
      : area === 'Alipay' ? `: ${providerMode(config, 'alipay', problems)}` : '';
    lines.push(`${area}${mode}`);
    for (const name of names) {
      const value = env[name];
      const fallback = (DEFAULTS as unknown as Record<string, unknown>)[name];
      const state = value === undefined || value === '' ? `not set${fallback !== undefined ? ` (default ${fallback})` : ''}` : maskValue(name, value);
      lines.push(`  ${bad.has(name) ? '✗' : value ? '✓' : '·'} ${name.padEnd(32)} ${state}`);
    }
    lines.push('');
  }
  const db = bad.has('DATABASE_URL') ? null : await checkDatabase(env.DATABASE_URL || undefined);
  if (typeof db === 'string') lines.splice(lines.indexOf('Database') + 1, 0, `  ✓ ${'connection'.padEnd(32)} ${db}`);
  else if (db) problems.push(db);
  if (config) {
    for (const [variable, url] of [['WECHAT_PAY_NOTIFY_URL', config.wechat?.notifyUrl], ['ALIPAY_NOTIFY_URL', config.alipay?.notifyUrl]] as const) {
      if (url && !url.startsWith('https://')) warnings.push(`${variable} is not https: fine for the local sandbox, refused in production`);
    }
    if (!config.wechat && !config.isProduction) warnings.push('WeChat Pay is not configured: `npm start` runs the local sandbox in its place');
    if (!config.alipay && !config.isProduction) warnings.push('Alipay is not configured: `npm start` runs the local sandbox in its place');
    lines.splice(lines.indexOf('Channels') + 1, 0, ...channelLines(config));
    warnings.push(...channelWarnings(config));
    if (!env.JWT_SECRET) warnings.push('JWT_SECRET is not set: a development secret kept under DATA_DIR is used');
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
  const offered: [string, Partial<ChannelDescriptor>, readonly string[]][] = [];
  if (config.wechat) offered.push(['WeChat Pay', WECHAT_CHANNELS, wechatEnabledChannels(config.wechat)]);
  if (config.alipay) offered.push(['Alipay', ALIPAY_CHANNELS, alipayEnabledChannels(config.alipay)]);
  for (const [name, descriptor, on] of offered) {
    for (const [channel, spec] of Object.entries(descriptor)) {
      lines.push(`  ${on.includes(channel) ? '✓' : '·'} ${`${name} ${channel}`.padEnd(32)} ${on.includes(channel) ? 'on' : `off (set ${spec.enabledBy})`}`);
    }
  }
  return lines;
}

function channelWarnings(config: AppConfig): string[] {
  const out: string[] = [];
  const h5 = config.wechat?.h5RedirectUrl;
  if (h5 && !h5.startsWith('https://')) out.push('WECHAT_PAY_H5_REDIRECT_URL is not https: WeChat Pay sends phone browsers there');
  if (config.wechat && config.wechat.jsapiAppIds.length && !config.wechat.jsapiAppIds.includes(config.wechat.appId)) {
    out.push('WECHAT_PAY_JSAPI_APP_IDS does not include WECHAT_PAY_APP_ID: fine when JSAPI runs only in mini programs');
  }
  for (const origin of config.returnUrlOrigins) {
    if (!origin.startsWith('https://')) out.push(`PAYMENT_RETURN_URL_ORIGINS has a plain http origin (${origin}): fine for development only`);
  }
  return out;
}

if (require.main === module) {
  checkConfiguration(readEnvironment()).then(({ report, ok }) => {
    process.stdout.write(`${report}\n`);
    process.exit(ok ? 0 : 1);
  }, (e) => {
    process.stderr.write(`config check failed: ${(e as Error).message}\n`);
    process.exit(2);
  });
}
