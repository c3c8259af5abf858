import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { MembershipService } from './membership.service';
import { MembershipView, PlanView, QuoteList, toPlanView } from './membership.views';

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
  @ApiOperation({
    summary: 'The caller\'s membership: the level now, the end of all coverage, and the periods current and to come',
    description: 'Each paid order adds its periods; higher levels run first and lower levels\' days follow. See README, Pricing.',
  })
  @ApiOkResponse({ type: MembershipView })
  @ApiErrors('UNAUTHENTICATED')
  me(@CurrentUser() userId: string): Promise<MembershipView> {
    return this.membership.me(userId, new Date());
  }

  @Get('quotes')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'What the caller may buy now (purchase, renewal or upgrade of each plan) and at what price' })
  @ApiOkResponse({ type: QuoteList })
  @ApiErrors('UNAUTHENTICATED')
  async quotes(@CurrentUser() userId: string): Promise<QuoteList> {
    return { data: await this.membership.quotes(userId, new Date()) };
  }
}
