import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { requestIdOf } from '../request-id';
import { DomainError } from './domain-error';
import { ERROR_CODES, ErrorCode } from './error-codes';
import { localizedMessage, type MessageLanguage } from './error-messages';

/** The one error format (documented in OpenAPI as ErrorBody). */
export class ErrorBody {
  @ApiProperty({ example: 404 }) statusCode: number;
  @ApiProperty({ enum: Object.keys(ERROR_CODES), example: 'ORDER_NOT_FOUND' }) code: ErrorCode;
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'a list naming the fields for VALIDATION_FAILED',
  })
  message: string | string[];
  @ApiProperty({ description: 'also in the X-Request-Id header' }) requestId: string;
}

/** Codes for framework errors that carry only an HTTP status. */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'MALFORMED_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE',
};

/** body-parser errors are plain errors with a status and a type; they are client errors. */
interface ParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
}

/**
 * The only exception filter: every error leaves as { statusCode, code, message, requestId },
 * never with a stack trace or a secret. Unknown errors are logged and become a generic 500.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('ErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return;
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const body = this.toBody(exception, requestIdOf(req));
    if (res.headersSent) return;
    // English unless the client prefers Chinese (no header, or `*`: English, as before).
    const language: MessageLanguage = req.acceptsLanguages?.('en', 'zh') === 'zh' ? 'zh' : 'en';
    res.vary('Accept-Language');
    res.status(body.statusCode).json({ ...body, message: localizedMessage(body.code, body.message, language) });
  }

  toBody(exception: unknown, requestId: string): ErrorBody {
    if (exception instanceof DomainError) {
      const message = exception.details?.length ? exception.details : exception.message;
      return { statusCode: ERROR_CODES[exception.code], code: exception.code, message, requestId };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse() as { message?: string | string[] } | string;
      // Express maps body-parser failures to HttpExceptions with the parser's own wording as cause.
      const cause = exception.cause as ParserError | undefined;
      const message = cause?.type
        ? parserMessage(cause)
        : typeof response === 'string'
          ? response
          : (response.message ?? exception.message);
      if (status >= 500) this.logger.error(`HTTP ${status}: ${exception.message}`);
      return { statusCode: status, code: STATUS_CODES[status] ?? 'INTERNAL_ERROR', message, requestId };
    }
    const parser = exception as ParserError;
    const status = parser?.status ?? parser?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500 && parser.expose !== false) {
      return { statusCode: status, code: STATUS_CODES[status] ?? 'MALFORMED_REQUEST', message: parserMessage(parser), requestId };
    }
    this.logger.error(`Unhandled error (request ${requestId}): ${(exception as Error)?.stack ?? String(exception)}`);
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, code: 'INTERNAL_ERROR', message: 'Internal server error', requestId };
  }
}

function parserMessage(err: ParserError): string {
  switch (err.type) {
    case 'entity.parse.failed':
      return 'The request body is not valid JSON';
    case 'entity.too.large':
      return 'The request body is too large';
    case 'entity.too.deep':
      return 'The request body is nested too deeply';
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return 'The request body encoding is not supported';
    default:
      return 'The request could not be read';
  }
}
