import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { OrderPage } from '../../orders/dto/list-orders.dto';
import { ORDER_STATUSES } from '../../orders/order-status';

/** Support's order search: any combination of filters, newest first, Stripe-style cursor. */
export class ListAdminOrdersDto extends OrderPage {
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
}
