import { INestApplication, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { DomainError } from './common/errors/domain-error';
import { ErrorFilter } from './common/errors/error.filter';
import { requestIdMiddleware } from './common/request-id';
import type { ConfigOptions } from './config/config.module';

const BODY_LIMIT = '64kb';

/** Builds the application exactly as it runs, for main.ts and for the tests. */
export async function createApp(options: ConfigOptions & { logger?: false } = {}): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(await AppModule.forRoot(options), {
    // Provider notifications are verified over the exact bytes received (protocols.md A.3, A.8).
    rawBody: true,
    bodyParser: false,
    ...(options.logger === false ? { logger: false } : {}),
  });
  app.use(requestIdMiddleware);
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('urlencoded', { limit: BODY_LIMIT, extended: false });
  app.useBodyParser('text', { limit: BODY_LIMIT });
  app.disable('x-powered-by');
  app.useGlobalFilters(new ErrorFilter());
  app.useGlobalPipes(new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => new DomainError('VALIDATION_FAILED', 'The request is invalid', flatten(errors)),
  }));
  return app;
}

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = `${prefix}${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((m) => (m.startsWith(e.property) ? `${prefix}${m}` : `${path}: ${m}`));
    return [...own, ...flatten(e.children ?? [], `${path}.`)];
  });
}

