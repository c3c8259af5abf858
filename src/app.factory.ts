import { INestApplication, LoggerService, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import { AppConfig } from './config/app-config';
import { ConfiguredIoAdapter } from './notifications/configured-io.adapter';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { json, raw, type NextFunction, type Request, type Response } from 'express';
import { AppModule } from './app.module';
import { serveCheckoutPage } from './checkout/checkout-page';
import { serveConsolePage } from './console/console-page';
import { DomainError } from './common/errors/domain-error';
import { ErrorFilter } from './common/errors/error.filter';
import { setupOpenApi } from './common/openapi';
import { refuseDeepJson } from './common/http/json-depth';
import { opsOnlyMiddleware } from './common/http/ops-server';
import { requestIdMiddleware } from './common/request-id';
import { AppLogger } from './common/logging/logging.module';
import type { ConfigOptions } from './config/config.module';

const BODY_LIMIT = '64kb';
/** Payment callbacks (…/wechat/callback, …/alipay/callback), WeChat Pay's refund callback (…/wechat/refund-callback) and its auto-renewal callbacks (…/wechat/contract-callback, …/wechat/papay-callback). */
const CALLBACK_ROUTE = /^\/api\/v1\/payment\/[a-z]+\/(?:refund-|contract-|papay-)?callback\/?$/;

/** `__proto__` and friends have no business in a request body: refuse them as malformed JSON. */
function refuseReservedKeys(key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new SyntaxError('reserved key in JSON');
  return value;
}

function keepRawBody(req: Request & { rawBody?: Buffer }, _res: Response, next: NextFunction): void {
  req.rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  next();
}

/** Builds the application exactly as it runs, for main.ts and for the tests. */
export async function createApp(options: ConfigOptions & { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(await AppModule.forRoot(options), {
    // Parsers are registered below, with the provider callbacks kept as raw bytes.
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(options.logger === false ? false : frameworkAtDebug(app.get(AppLogger)));
  const config = app.get(AppConfig);
  // req.ip (the rate limits' client address) comes from X-Forwarded-For only through trusted proxies.
  app.set('trust proxy', config.trustProxy);
  app.use(requestIdMiddleware);
  if (config.opsPort !== undefined) app.use(opsOnlyMiddleware);
  // Provider callbacks are read as bytes whatever their content type: signatures cover the exact
  // bytes, and a sender must get its own failure format, not a JSON parser's 400.
  app.use(CALLBACK_ROUTE, raw({ type: () => true, limit: BODY_LIMIT }), keepRawBody);
  // Express's own json parser rather than useBodyParser, whose type reserves `verify` for Nest's rawBody option.
  app.use(json({ limit: BODY_LIMIT, reviver: refuseReservedKeys, verify: refuseDeepJson }));
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false });
  app.useBodyParser('text', { limit: BODY_LIMIT });
  app.disable('x-powered-by');
  // Helmet's headers tell a browser how to treat a page or an answer; the providers' servers
  // reading a callback's answer ignore them, and a storm of notifications would pay for a dozen
  // headers on every answer (writeAcknowledgement still sends nosniff). Everything else, the API,
  // the checkout page and the docs, gets them all.
  const browserHeaders = helmet();
  app.use((req: Request, res: Response, next: NextFunction) => (CALLBACK_ROUTE.test(req.path) ? next() : browserHeaders(req, res, next)));
  app.enableCors({ origin: config.corsOrigins.length ? config.corsOrigins : false, credentials: false });
  app.useWebSocketAdapter(new ConfiguredIoAdapter(app, config.corsOrigins));
  serveCheckoutPage(app);
  serveConsolePage(app);
  app.useGlobalFilters(new ErrorFilter());
  setupOpenApi(app);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => new DomainError('VALIDATION_FAILED', 'The request is invalid', flatten(errors)),
    }),
  );
  return app;
}

/**
 * Nest's boot narration (a line per module, controller, route and gateway: some seventy) goes to
 * debug; at info the boot log is the service's own lines. LOG_LEVEL=debug shows the routes.
 */
const FRAMEWORK_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'WebSocketsController', 'NestFactory']);

function frameworkAtDebug(logger: AppLogger): LoggerService {
  const fromFramework = (params: unknown[]) => FRAMEWORK_CONTEXTS.has(params[params.length - 1] as string);
  return {
    log: (message: unknown, ...params: unknown[]) =>
      fromFramework(params) ? logger.debug(message, ...params) : logger.log(message, ...params),
    error: (message: unknown, ...params: unknown[]) => logger.error(message, ...params),
    warn: (message: unknown, ...params: unknown[]) => logger.warn(message, ...params),
    debug: (message: unknown, ...params: unknown[]) => logger.debug(message, ...params),
    verbose: (message: unknown, ...params: unknown[]) => logger.verbose(message, ...params),
    fatal: (message: unknown, ...params: unknown[]) => logger.fatal(message, ...params),
  };
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = `${prefix}${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((m) => (m.startsWith(e.property) ? `${prefix}${m}` : `${path}: ${m}`));
    return [...own, ...flatten(e.children ?? [], `${path}.`)];
  });
}
