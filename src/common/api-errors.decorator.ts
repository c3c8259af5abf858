import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorBody } from './errors/error.filter';
import { ERROR_CODES, ErrorCode } from './errors/error-codes';

/** Documents the error answers of a route from the one code table: one response per status. */
export function ApiErrors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  return applyDecorators(...[...byStatus].map(([status, list]) => ApiResponse({ status, type: ErrorBody, description: list.join(', ') })));
}
