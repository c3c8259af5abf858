import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength } from 'class-validator';
import { PROVIDER_NAMES } from '../../payments/provider-name';
import { OUTCOMES } from '../reconciliation-item.entity';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export class ListRunsDto {
  @ApiPropertyOptional({ description: 'first bill day (Beijing), YYYY-MM-DD; default 30 days before `to`', example: '2026-11-01' })
  @IsOptional()
  @Matches(DAY, { message: 'from must be a day, YYYY-MM-DD' })
  from?: string;

  @ApiPropertyOptional({ description: 'last bill day (Beijing), YYYY-MM-DD; default today', example: '2026-11-28' })
  @IsOptional()
  @Matches(DAY, { message: 'to must be a day, YYYY-MM-DD' })
  to?: string;
}

export class RunIdDto {
  @IsUUID('all', { message: 'id must be a run id' }) id: string;
}

export class ItemIdDto {
  @IsUUID('all', { message: 'id must be an item id' }) id: string;
}

export class ListItemsDto {
  @ApiPropertyOptional({ enum: OUTCOMES })
  @IsOptional()
  @IsIn(OUTCOMES, { message: `outcome must be one of ${OUTCOMES.join(', ')}` })
  outcome?: (typeof OUTCOMES)[number];
}

export class ResolveItemDto {
  @ApiProperty({ description: 'what support found and did', example: 'refunded by hand in the merchant portal, ticket 4711' })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'note must be a string' })
  @MinLength(1, { message: 'note must not be empty' })
  @MaxLength(1000, { message: 'note must be at most 1000 characters' })
  note: string;
}

export class RerunDayDto {
  @ApiProperty({ enum: PROVIDER_NAMES })
  @IsIn(PROVIDER_NAMES, { message: `provider must be one of ${PROVIDER_NAMES.join(', ')}` })
  provider: (typeof PROVIDER_NAMES)[number];

  @ApiProperty({ description: 'the Beijing bill day, YYYY-MM-DD', example: '2026-11-28' })
  @Matches(DAY, { message: 'bill_date must be a day, YYYY-MM-DD' })
  bill_date: string;

  @ApiProperty({ description: 'why the day is reconciled again (kept in the audit log)', example: 'the bill was re-issued' })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'reason must be a string' })
  @MinLength(1, { message: 'reason is required' })
  @MaxLength(256, { message: 'reason must be at most 256 characters' })
  reason: string;
}
