import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, Min } from 'class-validator';
import { AUDIT_ACTIONS } from '../../audit/audit-log';
import { ORDER_NO_PATTERN, ORDER_STATUSES, PAYMENT_METHODS } from '../../orders/order-status';
import { PAYMENT_CHANNELS } from '../../payments/payment-channel';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

class Page {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be an integer' })
  @Min(1, { message: 'limit must be at least 1' })
  @Max(100, { message: 'limit must be at most 100' })
  limit?: number;
}

/** The console's one search box and its filters. */
export class SearchOrdersDto extends Page {
  @ApiPropertyOptional({
    description: 'an order number, payment number, WeChat Pay transaction_id / Alipay trade_no, refund number or user id (exact)',
  })
  @IsOptional()
  @Transform(trimmed)
  @Matches(/^[\w.:@-]{1,64}$/, { message: 'q must be a number or id (letters, digits, _ . : @ -), at most 64 characters' })
  q?: string;

  @ApiPropertyOptional({ enum: ORDER_STATUSES })
  @IsOptional()
  @IsIn(ORDER_STATUSES, { message: `status must be one of ${ORDER_STATUSES.join(', ')}` })
  status?: string;

  @ApiPropertyOptional({ enum: PAYMENT_METHODS })
  @IsOptional()
  @IsIn(PAYMENT_METHODS, { message: `provider must be one of ${PAYMENT_METHODS.join(', ')}` })
  provider?: string;

  @ApiPropertyOptional({ enum: PAYMENT_CHANNELS })
  @IsOptional()
  @IsIn(PAYMENT_CHANNELS, { message: `channel must be one of ${PAYMENT_CHANNELS.join(', ')}` })
  channel?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'created at or after' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'created before' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;

  @ApiPropertyOptional({ description: 'the order_no of the last order of the previous page' })
  @IsOptional()
  @Matches(ORDER_NO_PATTERN, { message: 'starting_after must be an order_no' })
  starting_after?: string;
}

export class UserIdDto {
  @Matches(/^[\w.:@-]{1,64}$/, { message: 'user_id must be a user id' }) user_id: string;
}

export class ListAuditLogDto extends Page {
  @ApiPropertyOptional({ description: "the admin's user id" })
  @IsOptional()
  @Matches(/^[\w.:@-]{1,64}$/, { message: 'actor must be a user id' })
  actor?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS, { message: `action must be one of ${AUDIT_ACTIONS.join(', ')}` })
  action?: string;

  @ApiPropertyOptional({ description: 'an order_no, item id, "<provider> <day>" …' })
  @IsOptional()
  @Matches(/^[\w.:@ -]{1,128}$/, { message: 'target must be an order number, an id or a day' })
  target?: string;

  @ApiPropertyOptional({ description: 'the id of the last entry of the previous page' })
  @IsOptional()
  @Matches(/^[1-9]\d{0,17}$/, { message: 'before must be an entry id' })
  before?: string;
}

export class ExportBooksDto {
  @ApiProperty({ description: 'first Beijing bill day, YYYY-MM-DD', example: '2026-11-28' })
  @Matches(DAY, { message: 'from must be a day, YYYY-MM-DD' })
  from: string;

  @ApiPropertyOptional({ description: 'last Beijing bill day (inclusive); default `from`', example: '2026-11-28' })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a day, YYYY-MM-DD' })
  to?: string;

  @ApiPropertyOptional({ enum: PAYMENT_METHODS, description: 'one provider; default both' })
  @IsOptional()
  @IsIn(PAYMENT_METHODS, { message: `provider must be one of ${PAYMENT_METHODS.join(', ')}` })
  provider?: string;

  @ApiPropertyOptional({ enum: ['zh', 'en'], default: 'zh', description: 'the language of the header row and of the explanations' })
  @IsOptional()
  @IsIn(['zh', 'en'], { message: 'lang must be zh or en' })
  lang?: 'zh' | 'en';
}
