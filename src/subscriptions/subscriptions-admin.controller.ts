import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminCaller, CurrentAdmin } from '../audit/audit-log';
import { AdminOnly } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { CancelAutoRenewDto, MemberIdDto } from './dto/cancel-auto-renew.dto';
import { SubscriptionsService } from './subscriptions.service';
import { AdminContractView, adminContractView } from './subscriptions.views';

/** Support acting on a member's auto-renewal (the console's member view calls this). */
@ApiTags('admin: support console')
@AdminOnly()
@Controller('api/v1/admin/members')
export class SubscriptionsAdminController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post(':user_id/auto-renew/cancel')
  @HttpCode(200)
  @ApiOperation({
    summary: "Cancel a member's auto-renewal",
    description:
      "As the member's own cancel: terminates the contract at WeChat Pay or Alipay, then records it ended by `support`; the periods already paid stay. " +
      'The reason is required and is recorded in the audit log (who, from where, why) in the same transaction. A contract that is over is answered as it is ' +
      'and nothing is recorded. 502/504 when the provider could not be reached: nothing changed, try again.',
  })
  @ApiOkResponse({ type: AdminContractView })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND', 'PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT')
  async cancel(
    @Param() params: MemberIdDto,
    @Body() body: CancelAutoRenewDto,
    @CurrentAdmin() caller: AdminCaller,
  ): Promise<AdminContractView> {
    return adminContractView(await this.subscriptions.cancelForMember(params.user_id, { by: 'support', caller, reason: body.reason }));
  }
}
