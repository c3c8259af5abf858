import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { ORDER_NO_PATTERN, ORDER_STATUSES } from '../../orders/order-status';

/** Support's order search: any combination of filters, newest first, Stripe-style cursor. */
export class ListAdminOrdersDto {
  @ApiPropertyOptional({ description: "the member's user id" })
  @IsOptional()
  @Matches(/^[\w.:@-]{1,64}$/, { message: 'user_id must be a user id' })
  user_id?: string;

  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES, { message: `status must be one of ${ORDER_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'created at or after' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'created before' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;

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
