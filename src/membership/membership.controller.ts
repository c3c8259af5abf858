import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { MembershipService } from './membership.service';
import { MembershipView, PlanView, toMembershipView, toPlanView } from './membership.views';

@ApiTags('membership')
@Controller('api/v1/membership')
export class MembershipController {
  constructor(private readonly membership: MembershipService) {}

  @Public()
  @Get('plans')
  @ApiOperation({ summary: 'The active membership plans (prices in fen)' })
  @ApiOkResponse({ type: [PlanView] })
  async plans(): Promise<PlanView[]> {
    return (await this.membership.listActivePlans()).map(toPlanView);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The caller\'s membership' })
  @ApiOkResponse({ type: MembershipView })
  @ApiErrors('UNAUTHENTICATED')
  async me(@CurrentUser() userId: string): Promise<MembershipView> {
    return toMembershipView(userId, await this.membership.findMembership(userId), new Date());
  }
}
