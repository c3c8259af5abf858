import { BadRequestException, HttpException, Logger, NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { ConflictError, DomainError, NotFoundError } from './domain-error';
import { ErrorFilter } from './error.filter';
import { ERROR_CODES } from './error-codes';
import { localizedMessage } from './error-messages';

describe('ErrorFilter.toBody: one error format for every failure', () => {
  const filter = new ErrorFilter();
  let logged: string[];
  beforeEach(() => {
    logged = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation((message: unknown) => void logged.push(String(message)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('maps a domain error to its code and status', () => {
    expect(filter.toBody(new NotFoundError('ORDER_NOT_FOUND', 'No such order was found'), 'r-1')).toEqual({
      statusCode: 404,
      code: 'ORDER_NOT_FOUND',
      message: 'No such order was found',
      requestId: 'r-1',
    });
    expect(filter.toBody(new ConflictError('ORDER_ALREADY_PAID', 'paid'), 'r-2')).toMatchObject({
      statusCode: 409,
      code: 'ORDER_ALREADY_PAID',
    });
  });

  it('lists the fields of a validation failure as the message', () => {
    expect(filter.toBody(new DomainError('VALIDATION_FAILED', 'The request is invalid', ['amount must be an integer']), 'r-3')).toEqual({
      statusCode: 400,
      code: 'VALIDATION_FAILED',
      message: ['amount must be an integer'],
      requestId: 'r-3',
    });
  });

  it('gives framework errors a code by their status', () => {
    expect(filter.toBody(new NotFoundException('Cannot GET /nope'), 'r-4')).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: 'Cannot GET /nope',
      requestId: 'r-4',
    });
    expect(filter.toBody(new PayloadTooLargeException(), 'r-5')).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(filter.toBody(new HttpException('teapot', 418), 'r-6')).toMatchObject({ statusCode: 418, code: 'INTERNAL_ERROR' });
  });

  it("words body-parser failures itself rather than passing the parser's text on", () => {
    const parse = new BadRequestException('Unexpected token } in JSON at position 9', {
      cause: { type: 'entity.parse.failed', status: 400 },
    });
    expect(filter.toBody(parse, 'r-7')).toEqual({
      statusCode: 400,
      code: 'MALFORMED_REQUEST',
      message: 'The request body is not valid JSON',
      requestId: 'r-7',
    });
    const raw = Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large', expose: true });
    expect(filter.toBody(raw, 'r-8')).toEqual({
      statusCode: 413,
      code: 'PAYLOAD_TOO_LARGE',
      message: 'The request body is too large',
      requestId: 'r-8',
    });
  });

  it('turns anything else into a generic 500 that shows nothing of the error, and logs it', () => {
    const body = filter.toBody(new Error('password authentication failed for user "memberpay" (secret s3cr3t)'), 'r-9');
    expect(body).toEqual({ statusCode: 500, code: 'INTERNAL_ERROR', message: 'Internal server error', requestId: 'r-9' });
    expect(JSON.stringify(body)).not.toContain('s3cr3t');
    expect(logged.join('\n')).toContain('request r-9');
  });

  it("does not treat a server-side status on a plain error as the client's fault", () => {
    const upstream = Object.assign(new Error('upstream'), { status: 502 });
    expect(filter.toBody(upstream, 'r-10')).toMatchObject({ statusCode: 500, code: 'INTERNAL_ERROR' });
  });
});

describe('localizedMessage', () => {
  it('gives each known message its Chinese wording, one with a value by its pattern, any other by its code', () => {
    expect(localizedMessage('ORDER_NOT_FOUND', 'No such order was found', 'zh')).toBe('未找到该订单');
    expect(localizedMessage('ORDER_NOT_PAYABLE', 'The order is closed and cannot be paid', 'zh')).toBe('订单已关闭，无法进行该操作');
    expect(localizedMessage('PRODUCT_NOT_FOUND', 'No active membership plan has the id 9', 'zh')).toBe('没有 id 为 9 的有效会员套餐');
    expect(localizedMessage('PROVIDER_UNAVAILABLE', 'WeChat Pay failed the create request', 'zh')).toBe('支付平台暂时不可用，请稍后重试');
    expect(localizedMessage('VALIDATION_FAILED', ['amount must be an integer'], 'zh')).toEqual(['请求无效：amount must be an integer']);
    expect(localizedMessage('ORDER_NOT_FOUND', 'No such order was found', 'en')).toBe('No such order was found');
  });

  it('has a Chinese message for every error code', () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      expect(localizedMessage(code, 'an English message nobody translated', 'zh')).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});
