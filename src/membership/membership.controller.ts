import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Public } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { MembershipService } from './membership.service';
import { MembershipView, PlanListing, QuoteList } from './membership.views';

@ApiTags('membership')
@Controller('api/v1/membership')
export class MembershipController {
  constructor(private readonly membership: MembershipService) {}

  @Public()
  @Get('plans')
  @ApiOperation({
    summary: 'The active membership plans (prices in fen), each saying whether it can be bought with auto-renewal',
  })
  @ApiOkResponse({ type: [PlanListing] })
  plans(): Promise<PlanListing[]> {
    return this.membership.planListing();
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "The caller's membership: the level now, the end of all coverage, and the periods current and to come",
    description: [
      "Each paid order adds what it bought as periods; when days at two levels are held, the higher level's days run first",
      "and the lower level's follow. An upgrade converts exactly the days it was priced on when created.",
      'Examples: a basic yearly and a premium monthly order paid in either order give premium for 30 days, then basic for 365;',
      "an upgrade priced on 10 basic days and a basic renewal paid in either order give premium for those 10 days, then the renewal's 30 basic days.",
    ].join(' '),
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
