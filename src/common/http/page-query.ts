import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** Items on a page when the query names no `limit`. */
export const DEFAULT_PAGE_LIMIT = 20;
const MAX_PAGE_LIMIT = 100;

/** What a list pages by: the number of its items (an order_no, a refund_no). */
export interface PageCursor {
  /** What a valid cursor looks like. */
  pattern: RegExp;
  /** The cursor in the validation message: "starting_after must be <an order_no>". */
  name: string;
  /** starting_after in the API's documentation. */
  description: string;
}

/**
 * A list's page, as Stripe lists do it: `limit` (1 to 100, default 20) and `starting_after`, the
 * number of the last item of the previous page. One class per kind of cursor, which a list's query
 * extends with its own filters: every list pages, validates and documents the same way.
 */
export function PageQuery(cursor: PageCursor) {
  class PageQueryDto {
    @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT })
    @IsOptional()
    @Type(() => Number)
    @IsInt({ message: 'limit must be an integer' })
    @Min(1, { message: 'limit must be at least 1' })
    @Max(MAX_PAGE_LIMIT, { message: `limit must be at most ${MAX_PAGE_LIMIT}` })
    limit?: number;

    @ApiPropertyOptional({ description: cursor.description })
    @IsOptional()
    @Matches(cursor.pattern, { message: `starting_after must be ${cursor.name}` })
    starting_after?: string;
  }
  return PageQueryDto;
}
