import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { DELIVERY_STATUSES, type DeliveryStatus } from './webhook-delivery.entity';
import { WEBHOOK_EVENT_NAMES } from './webhook-event-types';

const EVENTS_MESSAGE = `events must be a list of event types among ${WEBHOOK_EVENT_NAMES.join(', ')}`;

export class CreateEndpointDto {
  @ApiProperty({ example: 'https://content.example.com/hooks/memberpay' })
  @IsString({ message: 'url must be a URL' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  url: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_NAMES, isArray: true })
  @IsArray({ message: EVENTS_MESSAGE })
  @ArrayMinSize(1, { message: 'events must name at least one event type' })
  @ArrayMaxSize(WEBHOOK_EVENT_NAMES.length, { message: EVENTS_MESSAGE })
  @ArrayUnique({ message: 'events must not repeat a type' })
  @IsIn(WEBHOOK_EVENT_NAMES, { each: true, message: EVENTS_MESSAGE })
  events: string[];

  @ApiPropertyOptional({ example: 'content service cache' })
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(500, { message: 'description must be at most 500 characters' })
  description?: string;
}

export class UpdateEndpointDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'url must be a URL' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  url?: string;

  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_NAMES, isArray: true })
  @IsOptional()
  @IsArray({ message: EVENTS_MESSAGE })
  @ArrayMinSize(1, { message: 'events must name at least one event type' })
  @ArrayMaxSize(WEBHOOK_EVENT_NAMES.length, { message: EVENTS_MESSAGE })
  @ArrayUnique({ message: 'events must not repeat a type' })
  @IsIn(WEBHOOK_EVENT_NAMES, { each: true, message: EVENTS_MESSAGE })
  events?: string[];

  @ApiPropertyOptional({ description: 'false stops deliveries (they wait); true resumes them and clears the reason it was disabled' })
  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString({ message: 'description must be a string' })
  @MaxLength(500, { message: 'description must be at most 500 characters' })
  description?: string;
}

export class EndpointIdDto {
  @IsUUID('all', { message: 'id must be an endpoint id' }) id: string;
}

export class DeliveryIdDto {
  @Matches(/^\d{1,18}$/, { message: 'id must be a delivery id' }) id: string;
}

export class ListDeliveriesDto {
  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `status must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt({ message: 'limit must be a whole number from 1 to 100' })
  @Min(1, { message: 'limit must be a whole number from 1 to 100' })
  @Max(100, { message: 'limit must be a whole number from 1 to 100' })
  limit?: number;

  @ApiPropertyOptional({ description: 'a delivery id: the page after it' })
  @IsOptional()
  @Matches(/^\d{1,18}$/, { message: 'starting_after must be a delivery id' })
  starting_after?: string;
}
