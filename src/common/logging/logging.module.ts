import { AsyncLocalStorage } from 'node:async_hooks';
import { Global, LoggerService, MiddlewareConsumer, Module, NestModule, RequestMethod } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stdSerializers } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { AppConfig } from '../../config/app-config';
import { redactUrlsIn } from '../redact-url';

/**
 * Paths pino removes from every line: credentials in headers, tokens in socket.io handshakes,
 * and provider signatures. Secrets never reach a log line, whoever reads the logs.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["wechatpay-signature"]',
  'req.query.token',
  'req.query.sign',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.token',
  '*.privateKey',
  '*.privateKeyPem',
  '*.apiV3Key',
  '*.jwtSecret',
  '*.password',
  '*.sign',
];

/** pino-pretty is a development dependency: an install without them logs plain JSON lines. */
function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** The service's one pino-http instance: the access log, and the logger every other line derives from. */
function createHttpLogger(config: AppConfig): HttpLogger {
  return pinoHttp<IncomingMessage, ServerResponse, never>({
    level: config.logLevel,
    // One request id per request: the one requestIdMiddleware set (and returned as X-Request-Id).
    genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? 'unknown',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // A connection URL in a message (a driver's error, a line of ours) loses its user,
    // password and query: only scheme, host, port and database are ever written.
    hooks: {
      logMethod(this: unknown, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) =>
            typeof a === 'string'
              ? redactUrlsIn(a)
              : a instanceof Error
                ? Object.assign(a, { message: redactUrlsIn(a.message), stack: a.stack && redactUrlsIn(a.stack) })
                : a,
          ),
        );
      },
    },
    // Our serializers read the request and response themselves: pino-http's wrapping would first
    // copy every header and the remote address into an object of its own, on every request, for
    // these to pick three fields from.
    wrapSerializers: false,
    // The URL may carry a token (socket.io's handshake query): log the path only.
    serializers: {
      err: stdSerializers.err,
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: String(req.url).split('?')[0],
      }),
      // The status is what an operator reads; the response headers (helmet's dozen, the request
      // id again) made every access line several hundred bytes longer and cost a serialisation each.
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel: (_req: unknown, res: { statusCode: number }, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    autoLogging: { ignore: (req: IncomingMessage) => req.url === '/health' || req.url === '/metrics' },
    ...(config.isProduction || config.nodeEnv === 'test' || !installed('pino-pretty')
      ? {}
      : {
          transport: {
            target: 'pino-pretty',
            options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }),
  });
}

/**
 * The logger of the request being served, so that a line written while serving it carries its
 * request id; outside a request (jobs, boot) the lines come from the root logger.
 */
const perRequest = new AsyncLocalStorage<HttpLogger['logger']>();

/**
 * Pino behind Nest's LoggerService, with the request's logger when there is one (see `perRequest`).
 * Written here rather than taken from nestjs-pino, whose releases for Nest 12 declare Node ≥ 22.12
 * (this service runs on Node 20); this is the part of it the service used: `context` from Nest's last
 * argument, an Error as `err`, and the stack-as-second-argument call of Nest's exception handlers.
 */
export class AppLogger implements LoggerService {
  constructor(private readonly http: HttpLogger) {}

  /** The access log for one request; what is logged while serving it carries the request's id. */
  readonly middleware = (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    this.http(req, res);
    perRequest.run((req as IncomingMessage & { log: HttpLogger['logger'] }).log, next);
  };

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', message: unknown, params: unknown[]): void {
    const logger = perRequest.getStore() ?? this.http.logger;
    // Nest passes the context (the class name) last.
    const fields: Record<string, unknown> = params.length ? { context: params[params.length - 1] } : {};
    const rest = params.slice(0, -1);
    if (message instanceof Error) logger[level]({ ...fields, err: message }, ...(rest as []));
    else if (typeof message === 'object' && message !== null) logger[level]({ ...fields, ...message }, ...(rest as []));
    else if (
      level === 'error' &&
      typeof message === 'string' &&
      rest.length === 1 &&
      typeof rest[0] === 'string' &&
      /\n\s*at /.test(rest[0])
    ) {
      // Nest's exception handlers call error(message, stack, context).
      logger[level]({ ...fields, err: Object.assign(new Error(message), { stack: rest[0] }) });
    } else logger[level](fields, String(message), ...(rest as []));
  }
}

@Global()
@Module({
  providers: [{ provide: AppLogger, inject: [AppConfig], useFactory: (config: AppConfig) => new AppLogger(createHttpLogger(config)) }],
  exports: [AppLogger],
})
export class LoggingModule implements NestModule {
  constructor(private readonly logger: AppLogger) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(this.logger.middleware).forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
