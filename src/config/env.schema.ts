import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value);
/** An empty variable counts as unset (a .env line `NAME=`). */
export const emptyToUndefined = ({ value }: { value: unknown }) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
/** An http(s) URL, where a host without a top-level domain (127.0.0.1, a service name) is fine. */
export const IsHttpUrl = () =>
  IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be an http(s) URL' });

/**
 * Every environment variable the service reads, validated once at boot, except the payment
 * providers' own: each provider's settings have their schema (src/payments/providers/<name>/).
 * Messages name the variable and the rule, never the value (values may be secrets).
 */
export class EnvSchema {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @Min(0)
  @Max(65535)
  @IsInt()
  PORT: number = 8001;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsString()
  @MinLength(1)
  DATA_DIR: string = './data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET?: string;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = 'info';

  @Transform(toInt)
  @Min(1)
  @Max(7 * 24 * 60)
  @IsInt()
  ORDER_EXPIRE_MINUTES: number = 30;

  @Transform(toInt)
  @Min(1)
  @Max(120)
  @IsInt()
  QR_CODE_EXPIRE_MINUTES: number = 15;

  @Transform(toInt)
  @Min(0)
  @Max(20)
  @IsInt()
  PAYMENT_QUERY_RETRY_MAX: number = 5;

  @Transform(toInt)
  @Min(100)
  @Max(60000)
  @IsInt()
  PROVIDER_TIMEOUT_MS: number = 5000;

  /** Every how many minutes the renewal job runs (auto-renewal by contract). */
  @Transform(toInt)
  @Min(1)
  @Max(1440)
  @IsInt()
  RENEWAL_JOB_MINUTES: number = 10;

  /** Deductions tried per renewal cycle (the first included) before the contract lapses. */
  @Transform(toInt)
  @Min(1)
  @Max(10)
  @IsInt()
  RENEWAL_RETRY_MAX: number = 3;

  /** Days a member keeps access after a failed renewal while retries run (never a paid period). */
  @Transform(toInt)
  @Min(0)
  @Max(30)
  @IsInt()
  RENEWAL_GRACE_DAYS: number = 3;

  @Transform(toInt)
  @Min(1)
  @Max(10000)
  @IsInt()
  CREATE_ORDER_RATE_LIMIT: number = 20;

  /** Beijing time of day (HH:mm) from which the previous day's bills are reconciled. */
  @Matches(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'must be a Beijing time of day, HH:mm' })
  RECONCILIATION_AT: string = '10:30';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// URL' })
  REDIS_URL?: string;

  /** Service processes sharing the port (Node cluster); 1, the default, is one process. `--workers N` overrides it. */
  @Transform(toInt)
  @Min(1)
  @Max(64)
  @IsInt()
  WEB_CONCURRENCY: number = 1;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(['0', '1', 'true', 'false'])
  ALLOW_EMBEDDED_DB_IN_PRODUCTION?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsIn(['0', '1', 'true', 'false'])
  PAYMENT_SANDBOX?: string;

  /** `npm start` only: which providers the local sandbox emulates (wechat, alipay, both comma-separated, or none). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(none|(wechat|alipay)(,(wechat|alipay))?)$/, { message: 'must be wechat, alipay, "wechat,alipay" or none' })
  PAYMENT_SANDBOX_PROVIDERS?: string;

  // Exposure and abuse limits.
  /** Where the API listens; unset: 127.0.0.1 in development and test, 0.0.0.0 in production. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @Matches(/^[\w.:[\]-]{1,255}$/, { message: 'must be a host name or address' })
  HOST?: string;

  /** When set, /metrics and /api/docs are served on this port only (not on PORT). */
  @Transform((a) => toInt({ value: emptyToUndefined(a) }))
  @IsOptional()
  @Min(0)
  @Max(65535)
  @IsInt()
  OPS_PORT?: number;

  /** Express `trust proxy`: unset/false (the peer is the client), a hop count, or addresses/CIDRs/loopback, comma-separated. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(true|false|\d{1,2}|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/, {
    message: 'must be false, true, a hop count or comma-separated addresses',
  })
  TRUST_PROXY?: string;

  /** POST /orders/:order_no/qr-code and …/cancel per user per minute. */
  @Transform(toInt)
  @Min(1)
  @Max(10000)
  @IsInt()
  ORDER_ACTION_RATE_LIMIT: number = 30;

  /** Unauthenticated requests (health, plans, return page, socket.io handshakes) per client address per minute. */
  @Transform(toInt)
  @Min(1)
  @Max(1000000)
  @IsInt()
  PUBLIC_RATE_LIMIT: number = 300;

  /** Failed authentications (401: no token, a bad or expired one) per client address per minute; beyond it, 429. */
  @Transform(toInt)
  @Min(1)
  @Max(1000000)
  @IsInt()
  AUTH_FAILURE_RATE_LIMIT: number = 60;

  /** Provider notifications per sender address per minute: above your peak payments per minute, so provider retries are never refused. */
  @Transform(toInt)
  @Min(1)
  @Max(1000000)
  @IsInt()
  CALLBACK_RATE_LIMIT: number = 6000;

  /** Open socket.io connections per user on one instance. */
  @Transform(toInt)
  @Min(1)
  @Max(1000)
  @IsInt()
  WS_CONNECTIONS_PER_USER: number = 10;

  /**
   * The first retry delay of a service webhook (the schedule is 1, 5, 30, 120, 480 and then 1440 of
   * these, for 4320 of them: about 1 min … daily, for 3 days). Tests shrink it; leave it in production.
   */
  @Transform(toInt)
  @Min(1)
  @Max(3_600_000)
  @IsInt()
  WEBHOOK_RETRY_BASE_MS: number = 60_000;

  /** How long a webhook receiver has to answer 2xx before the attempt counts as failed. */
  @Transform(toInt)
  @Min(50)
  @Max(300_000)
  @IsInt()
  WEBHOOK_TIMEOUT_MS: number = 10_000;

  // Tokens.
  /** The longest token lifetime accepted (exp − iat), in seconds. */
  @Transform(toInt)
  @Min(60)
  @Max(30 * 24 * 3600)
  @IsInt()
  JWT_MAX_TTL_SECONDS: number = 24 * 3600;

  @Transform(emptyToUndefined) @IsOptional() @IsString() JWT_ISSUER?: string;
  @Transform(emptyToUndefined) @IsOptional() @IsString() JWT_AUDIENCE?: string;

  // Where a browser may be sent back after paying (H5, WAP, page): a client's return_url must be on one of these origins.
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  PAYMENT_RETURN_URL_ORIGINS?: string;
}

/** Variables whose values are secrets: masked wherever configuration is shown (each provider's settings list its own). */
export const SECRET_VARIABLES = new Set(['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL']);
