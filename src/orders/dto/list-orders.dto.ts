import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ORDER_NO_PATTERN } from '../order-status';

/** Cursor pagination, as Stripe lists do it: `limit` and `starting_after` (an order_no). */
export class ListOrdersDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'the order_no of the last order of the previous page' })
  @IsOptional()
  @Matches(ORDER_NO_PATTERN, { message: 'starting_after must be an order_no' })
  starting_after?: string;
}
