import { Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { stdSerializers } from 'pino';
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

@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
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
        },
      }),
    }),
  ],
})
export class LoggingModule {}
