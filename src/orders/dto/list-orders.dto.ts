import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { ORDER_NO_PATTERN } from '../order-status';

/** Cursor pagination, as Stripe lists do it: `limit` and `starting_after` (an order_no). */
export class ListOrdersDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  limit?: number;

  @IsOptional()
  @Matches(ORDER_NO_PATTERN, { message: 'starting_after must be an order_no' })
  starting_after?: string;
}
