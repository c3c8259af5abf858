import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { EnvSchema } from './env.schema';
import {
  certificateSerial, KeyMaterialError, loadCertificate, loadPrivateKeyFile, loadPublicKeyFile,
  normalizePrivateKey, normalizePublicKey,
} from './key-material';

export interface WechatPayConfig {
  appId: string;
  mchId: string;
  apiV3Key: string;
  notifyUrl: string;
  /** Where WeChat Pay posts refund results (sent as the refund's notify_url). */
  refundNotifyUrl: string;
  privateKeyPem: string;
  /** Serial of the merchant API certificate, sent as serial_no in Authorization. */
  certSerial: string;
  /** Keys that verify WeChat Pay, by the exact Wechatpay-Serial value (cert serial or PUB_KEY_ID_…). */
  verifiers: Record<string, string>;
  baseUrl: string;
  /** The mobile app's id at the WeChat Open Platform: turns the APP channel on. */
  appAppId?: string;
  /** Official account / mini program app ids whose openids may pay by JSAPI (the first is the default). */
  jsapiAppIds: string[];
  /** Where WeChat sends the phone browser back after H5: turns the H5 channel on. */
  h5RedirectUrl?: string;
}

export interface AlipayConfig {
  appId: string;
  privateKeyPem: string;
  alipayPublicKeyPem: string;
  gateway: string;
  notifyUrl?: string;
  returnUrl?: string;
  sellerId?: string;
  /** Channels beyond the QR code whose Alipay products are signed (ALIPAY_CHANNELS). */
  channels: ('app' | 'wap' | 'page')[];
}

export interface ConfigProblem { variable: string; problem: string }

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`);
  }
}

/** The one typed configuration object; injected wherever configuration is needed. */
export class AppConfig {
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
  callbackRateLimit: number;
  wsConnectionsPerUser: number;
  jwtMaxTtlSeconds: number;
  jwtIssuer?: string;
  jwtAudience?: string;
  /** True when the providers point at the local sandbox (set by the development launcher). */
  sandbox: boolean;
  wechat?: WechatPayConfig;
  alipay?: AlipayConfig;

  get isProduction(): boolean {
    return this.nodeEnv === 'production';
  }

  /** Secrets never leave the process through JSON or util.inspect. */
  toJSON(): Record<string, unknown> {
    return {
      nodeEnv: this.nodeEnv, port: this.port, dataDir: this.dataDir,
      database: this.databaseUrl ? 'external' : 'embedded', sandbox: this.sandbox,
      wechat: this.wechat ? { appId: this.wechat.appId, mchId: this.wechat.mchId, baseUrl: this.wechat.baseUrl } : 'off',
      alipay: this.alipay ? { appId: this.alipay.appId, gateway: this.alipay.gateway } : 'off',
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Record<string, unknown> {
    return this.toJSON();
  }
}

const WECHAT_DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
const ALIPAY_DEFAULT_GATEWAY = 'https://openapi.alipay.com/gateway.do';
const truthy = (v?: string) => v === '1' || v === 'true';
const LOOPBACK = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

export function buildAppConfig(env: Record<string, string | undefined>): AppConfig {
  const schema = plainToInstance(EnvSchema, pickDefined(env));
  const errors = validateSync(schema, { stopAtFirstError: true });
  const problems: ConfigProblem[] = errors.map((e) => ({
    variable: e.property,
    problem: Object.values(e.constraints ?? {}).map((m) => m.replace(`${e.property} `, '')).join(', '),
  }));
  if (problems.length) throw new ConfigError(problems);

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
  cfg.redisUrl = schema.REDIS_URL;
  cfg.workers = schema.WEB_CONCURRENCY;
  cfg.createOrderRateLimit = schema.CREATE_ORDER_RATE_LIMIT;
  cfg.reconciliationAt = schema.RECONCILIATION_AT;
  cfg.corsOrigins = (schema.CORS_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  cfg.host = schema.HOST ?? (schema.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1');
  cfg.opsPort = schema.OPS_PORT;
  if (cfg.opsPort !== undefined && cfg.opsPort !== 0 && cfg.opsPort === cfg.port) {
    throw new ConfigError([{ variable: 'OPS_PORT', problem: 'must differ from PORT (it keeps /metrics and /api/docs off the API port)' }]);
  }
  cfg.trustProxy = trustProxy(schema.TRUST_PROXY);
  cfg.orderActionRateLimit = schema.ORDER_ACTION_RATE_LIMIT;
  cfg.publicRateLimit = schema.PUBLIC_RATE_LIMIT;
  cfg.callbackRateLimit = schema.CALLBACK_RATE_LIMIT;
  cfg.wsConnectionsPerUser = schema.WS_CONNECTIONS_PER_USER;
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
  cfg.wechat = collect(() => buildWechat(schema));
  cfg.alipay = collect(() => buildAlipay(schema));
  if (!problems.length) problems.push(...productionProblems(cfg, schema));
  if (problems.length) throw new ConfigError(problems);
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
  for (const [variable, url] of [
    ['WECHAT_PAY_NOTIFY_URL', cfg.wechat?.notifyUrl], ['ALIPAY_NOTIFY_URL', cfg.alipay?.notifyUrl],
    ['WECHAT_PAY_REFUND_NOTIFY_URL', cfg.wechat?.refundNotifyUrl],
  ] as const) {
    if (url && !url.startsWith('https://')) out.push({ variable, problem: 'must be https in production' });
  }
  for (const [variable, url] of [['WECHAT_PAY_BASE_URL', cfg.wechat?.baseUrl], ['ALIPAY_GATEWAY', cfg.alipay?.gateway]] as const) {
    if (url && LOOPBACK.test(url)) out.push({ variable, problem: 'points at a local sandbox, refused in production' });
    // Requests and answers are signed, not encrypted: over http anyone on the path reads them.
    else if (url && !url.startsWith('https://')) out.push({ variable, problem: 'must be https in production' });
  }
  // Without it, a notification signed by Alipay for another seller of the same app would be honoured.
  if (cfg.alipay && !cfg.alipay.sellerId) out.push({ variable: 'ALIPAY_SELLER_ID', problem: 'is required in production when Alipay is configured' });
  if (!cfg.jwtIssuer) out.push({ variable: 'JWT_ISSUER', problem: 'is required in production' });
  if (!cfg.jwtAudience) out.push({ variable: 'JWT_AUDIENCE', problem: 'is required in production' });
  return out;
}

function keyProblem(variable: string, fn: () => string): string {
  try {
    return fn();
  } catch (e) {
    if (e instanceof KeyMaterialError) throw new ConfigError([{ variable, problem: e.message }]);
    throw e;
  }
}

function buildWechat(s: EnvSchema): WechatPayConfig | undefined {
  const named = {
    WECHAT_PAY_APP_ID: s.WECHAT_PAY_APP_ID, WECHAT_PAY_MCH_ID: s.WECHAT_PAY_MCH_ID,
    WECHAT_PAY_API_V3_KEY: s.WECHAT_PAY_API_V3_KEY, WECHAT_PAY_NOTIFY_URL: s.WECHAT_PAY_NOTIFY_URL,
    WECHAT_PAY_PRIVATE_KEY_PATH: s.WECHAT_PAY_PRIVATE_KEY_PATH,
  };
  const any = Object.values(named).some(Boolean) || s.WECHAT_PAY_CERT_PATH || s.WECHAT_PAY_PUBLIC_KEY_PATH
    || s.WECHAT_PAY_PLATFORM_CERT_PATH || s.WECHAT_PAY_PUBLIC_KEY_ID;
  if (!any) return undefined;
  const problems: ConfigProblem[] = Object.entries(named)
    .filter(([, v]) => !v).map(([variable]) => ({ variable, problem: 'is required when WeChat Pay is configured' }));
  if (s.WECHAT_PAY_API_V3_KEY && Buffer.byteLength(s.WECHAT_PAY_API_V3_KEY) !== 32) {
    problems.push({ variable: 'WECHAT_PAY_API_V3_KEY', problem: 'must be exactly 32 bytes' });
  }
  if (!s.WECHAT_PAY_CERT_PATH && !s.WECHAT_PAY_CERT_SERIAL_NO) {
    problems.push({ variable: 'WECHAT_PAY_CERT_PATH', problem: 'or WECHAT_PAY_CERT_SERIAL_NO is required' });
  }
  if (!!s.WECHAT_PAY_PUBLIC_KEY_PATH !== !!s.WECHAT_PAY_PUBLIC_KEY_ID) {
    problems.push({ variable: 'WECHAT_PAY_PUBLIC_KEY_ID', problem: 'and WECHAT_PAY_PUBLIC_KEY_PATH must be set together' });
  }
  if (!s.WECHAT_PAY_PUBLIC_KEY_PATH && !s.WECHAT_PAY_PLATFORM_CERT_PATH) {
    problems.push({ variable: 'WECHAT_PAY_PUBLIC_KEY_PATH', problem: 'or WECHAT_PAY_PLATFORM_CERT_PATH is required to verify WeChat Pay' });
  }
  if (s.WECHAT_PAY_NOTIFY_URL && new URL(s.WECHAT_PAY_NOTIFY_URL).search) {
    problems.push({ variable: 'WECHAT_PAY_NOTIFY_URL', problem: 'must not carry a query string' });
  }
  if (s.WECHAT_PAY_REFUND_NOTIFY_URL && new URL(s.WECHAT_PAY_REFUND_NOTIFY_URL).search) {
    problems.push({ variable: 'WECHAT_PAY_REFUND_NOTIFY_URL', problem: 'must not carry a query string' });
  }
  if (problems.length) throw new ConfigError(problems);

  const privateKeyPem = keyProblem('WECHAT_PAY_PRIVATE_KEY_PATH', () => loadPrivateKeyFile(s.WECHAT_PAY_PRIVATE_KEY_PATH!));
  let certSerial = s.WECHAT_PAY_CERT_SERIAL_NO?.toUpperCase();
  if (s.WECHAT_PAY_CERT_PATH) {
    const cert = keyProblemCert('WECHAT_PAY_CERT_PATH', s.WECHAT_PAY_CERT_PATH);
    const serial = certificateSerial(cert);
    if (certSerial && certSerial !== serial) {
      throw new ConfigError([{ variable: 'WECHAT_PAY_CERT_SERIAL_NO', problem: 'differs from the serial of WECHAT_PAY_CERT_PATH' }]);
    }
    if (!cert.checkPrivateKey(createPrivateKey(privateKeyPem))) {
      throw new ConfigError([{ variable: 'WECHAT_PAY_PRIVATE_KEY_PATH', problem: 'does not match the certificate WECHAT_PAY_CERT_PATH' }]);
    }
    certSerial = serial;
  }
  const verifiers: Record<string, string> = {};
  if (s.WECHAT_PAY_PUBLIC_KEY_PATH) {
    verifiers[s.WECHAT_PAY_PUBLIC_KEY_ID!] = keyProblem('WECHAT_PAY_PUBLIC_KEY_PATH', () => loadPublicKeyFile(s.WECHAT_PAY_PUBLIC_KEY_PATH!));
  }
  for (const path of (s.WECHAT_PAY_PLATFORM_CERT_PATH ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const cert = keyProblemCert('WECHAT_PAY_PLATFORM_CERT_PATH', path);
    verifiers[certificateSerial(cert)] = cert.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  }
  return {
    appId: s.WECHAT_PAY_APP_ID!, mchId: s.WECHAT_PAY_MCH_ID!, apiV3Key: s.WECHAT_PAY_API_V3_KEY!,
    notifyUrl: s.WECHAT_PAY_NOTIFY_URL!,
    // The refund callback is the payment callback's sibling (…/wechat/callback → …/wechat/refund-callback)
    // unless set on its own.
    refundNotifyUrl: s.WECHAT_PAY_REFUND_NOTIFY_URL ?? new URL('refund-callback', s.WECHAT_PAY_NOTIFY_URL!).toString(),
    privateKeyPem, certSerial: certSerial!, verifiers,
    baseUrl: (s.WECHAT_PAY_BASE_URL ?? WECHAT_DEFAULT_BASE_URL).replace(/\/+$/, ''),
    appAppId: s.WECHAT_PAY_APP_APP_ID,
    jsapiAppIds: splitList(s.WECHAT_PAY_JSAPI_APP_IDS),
    h5RedirectUrl: s.WECHAT_PAY_H5_REDIRECT_URL,
  };
}

function keyProblemCert(variable: string, path: string) {
  try {
    return loadCertificate(path);
  } catch (e) {
    if (e instanceof KeyMaterialError) throw new ConfigError([{ variable, problem: e.message }]);
    throw e;
  }
}

function buildAlipay(s: EnvSchema): AlipayConfig | undefined {
  const named = { ALIPAY_APP_ID: s.ALIPAY_APP_ID, ALIPAY_PRIVATE_KEY: s.ALIPAY_PRIVATE_KEY, ALIPAY_PUBLIC_KEY: s.ALIPAY_PUBLIC_KEY };
  const any = Object.values(named).some(Boolean) || s.ALIPAY_NOTIFY_URL || s.ALIPAY_SELLER_ID;
  if (!any) return undefined;
  const problems = Object.entries(named)
    .filter(([, v]) => !v).map(([variable]) => ({ variable, problem: 'is required when Alipay is configured' }));
  if (!s.ALIPAY_NOTIFY_URL) problems.push({ variable: 'ALIPAY_NOTIFY_URL', problem: 'is required when Alipay is configured' });
  if (problems.length) throw new ConfigError(problems);
  return {
    appId: s.ALIPAY_APP_ID!,
    privateKeyPem: keyProblem('ALIPAY_PRIVATE_KEY', () => normalizePrivateKey(s.ALIPAY_PRIVATE_KEY!)),
    alipayPublicKeyPem: keyProblem('ALIPAY_PUBLIC_KEY', () => normalizePublicKey(s.ALIPAY_PUBLIC_KEY!)),
    gateway: s.ALIPAY_GATEWAY ?? ALIPAY_DEFAULT_GATEWAY,
    notifyUrl: s.ALIPAY_NOTIFY_URL, returnUrl: s.ALIPAY_RETURN_URL, sellerId: s.ALIPAY_SELLER_ID,
    channels: [...new Set(splitList(s.ALIPAY_CHANNELS))] as AlipayConfig['channels'],
  };
}

/** TRUST_PROXY as Express takes it: a boolean, a hop count, or a list of trusted addresses. */
function trustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((s) => s.trim()).filter(Boolean);
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
    if (v !== undefined && (known.has(k) || /^(WECHAT_PAY_|ALIPAY_)/.test(k) || OPTIONAL_VARIABLES.includes(k))) out[k] = v;
  }
  return out;
}

const OPTIONAL_VARIABLES = [
  'DATABASE_URL', 'JWT_SECRET', 'REDIS_URL', 'CORS_ORIGINS', 'ALLOW_EMBEDDED_DB_IN_PRODUCTION', 'PAYMENT_SANDBOX',
  'PAYMENT_SANDBOX_PROVIDERS', 'HOST', 'OPS_PORT', 'TRUST_PROXY', 'JWT_ISSUER', 'JWT_AUDIENCE',
  'PAYMENT_RETURN_URL_ORIGINS',
];

const splitList = (value?: string) => (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);

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
