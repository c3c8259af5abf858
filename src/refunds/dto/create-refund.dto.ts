import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsNumber, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/http/page-query';
import { REFUND_MEMBERSHIP_EFFECTS, REFUND_STATUSES, type RefundMembershipEffect } from '../refund-status';

export class CreateRefundDto {
  /**
   * Checked as a number here; whether it is a positive whole number of fen within what is left
   * is the refund rule's business (409 REFUND_EXCEEDS_PAID), as the support API documents.
   */
  @ApiPropertyOptional({ description: 'fen to refund; omitted: everything not yet refunded', example: 990 })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'amount must be a number of fen' })
  amount?: number;

  @ApiProperty({
    description: 'why (kept with the refund; WeChat Pay shows its first 80 characters to the buyer)',
    example: 'customer asked',
    maxLength: 256,
  })
  @IsString({ message: 'reason must be a string' })
  @IsNotEmpty({ message: 'reason is required' })
  @Matches(/\S/, { message: 'reason must say something' })
  @MaxLength(256, { message: 'reason must be at most 256 characters' })
  reason: string;

  @ApiPropertyOptional({
    enum: REFUND_MEMBERSHIP_EFFECTS,
    default: 'withdraw',
    description:
      "withdraw: the refund takes back the days its fen bought, from the end of the order's periods (all of them for a full refund); keep: the member keeps them — a concession, recorded with who asked and why",
  })
  @IsOptional()
  @IsIn(REFUND_MEMBERSHIP_EFFECTS, { message: `membership must be one of ${REFUND_MEMBERSHIP_EFFECTS.join(', ')}` })
  membership?: RefundMembershipEffect;
}

/** Support's refunds, newest first, by refund_no. */
export class ListRefundsDto extends PageQuery({
  pattern: /^[0-9A-Za-z]{1,32}$/,
  name: 'a refund_no',
  description: 'the refund_no of the last refund of the previous page',
}) {
  @ApiPropertyOptional({ enum: REFUND_STATUSES, description: 'e.g. abnormal: the refunds stuck at the provider' })
  @IsOptional()
  @IsIn(REFUND_STATUSES, { message: `status must be one of ${REFUND_STATUSES.join(', ')}` })
  status?: (typeof REFUND_STATUSES)[number];
}
