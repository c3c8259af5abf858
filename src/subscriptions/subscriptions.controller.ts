import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { AdminCaller, CurrentAdmin } from '../audit/audit-log';
import { AdminOnly, CurrentUser } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import type { ContractRow } from './contracts.repository';
import { SubscriptionsService } from './subscriptions.service';

/** A member's auto-renewal contract, as the member sees it. */
export class ContractView {
  @ApiProperty({ example: 'AR20261206103000K7Q2M9XW4P1Z' }) contract_no: string;
  @ApiProperty({ enum: ['pending', 'active', 'past_due', 'cancelled', 'lapsed'] }) status: string;
  @ApiProperty({ enum: ['wechat', 'alipay'] }) provider: string;
  @ApiProperty({ description: 'every renewal, in fen', example: 1990 }) amount: number;
  @ApiPropertyOptional({ type: String, nullable: true }) signed_at: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) cancelled_at: string | null;
}

const toView = (c: ContractRow): ContractView => ({
  contract_no: c.contract_no,
  status: c.status,
  provider: c.provider,
  amount: c.amount,
  signed_at: c.signed_at ? new Date(c.signed_at).toISOString() : null,
  cancelled_at: c.ended_at ? new Date(c.ended_at).toISOString() : null,
});

@ApiTags('membership')
@Controller('api/v1/membership')
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post('auto-renew/cancel')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Cancels the caller's auto-renewal",
    description:
      'Terminates the contract at WeChat Pay (/papay/deletecontract) or Alipay (alipay.user.agreement.unsign), then records it; idempotent. The periods already paid stay.',
  })
  @ApiOkResponse({ type: ContractView })
  @ApiErrors('UNAUTHENTICATED', 'NOT_FOUND', 'PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT')
  async cancel(@CurrentUser() userId: string): Promise<ContractView> {
    return toView(await this.subscriptions.cancelForMember(userId));
  }
}

export class SupportCancelDto {
  @ApiProperty({ example: '会员来电要求取消自动续费', description: 'why support cancels it (kept in the audit log)' })
  @IsString({ message: 'reason must be a string' })
  @MinLength(1, { message: 'reason must say why' })
  @MaxLength(500, { message: 'reason must be at most 500 characters' })
  reason: string;
}

@ApiTags('admin: members')
@AdminOnly()
@Controller('api/v1/admin/members')
export class SubscriptionsAdminController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post(':user_id/auto-renew/cancel')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Cancels a member's auto-renewal for them",
    description:
      "As the member's own cancel (terminated at the provider, then recorded; the periods already paid stay), recorded as ended by support, with who and why in the admin audit log. Idempotent.",
  })
  @ApiOkResponse({ type: ContractView })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHENTICATED', 'NOT_FOUND', 'PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT')
  async cancel(
    @CurrentAdmin() caller: AdminCaller,
    @Param('user_id') userId: string,
    @Body() dto: SupportCancelDto,
  ): Promise<ContractView> {
    return toView(await this.subscriptions.cancelForSupport(userId, caller, dto.reason));
  }
}
