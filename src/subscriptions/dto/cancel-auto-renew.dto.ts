import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class MemberIdDto {
  @Matches(/^[\w.:@-]{1,64}$/, { message: 'user_id must be a user id' }) user_id: string;
}

/** Support cancels a member's auto-renewal: why, for the audit log. */
export class CancelAutoRenewDto {
  @ApiProperty({ description: 'why support cancels it (kept in the audit log)', example: '会员来电要求取消自动续费' })
  @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'reason must be a string' })
  @MinLength(1, { message: 'reason is required' })
  @MaxLength(256, { message: 'reason must be at most 256 characters' })
  reason: string;
}
