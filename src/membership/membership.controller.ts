import { Controller, Get } from '@nestjs/common';
import { CurrentUser, Public } from '../auth/auth.guard';
import { MembershipService } from './membership.service';
import { MembershipView, PlanView, toMembershipView, toPlanView } from './membership.views';

@Controller('api/v1/membership')
export class MembershipController {
  constructor(private readonly membership: MembershipService) {}

  @Public()
  @Get('plans')
  async plans(): Promise<PlanView[]> {
    return (await this.membership.listActivePlans()).map(toPlanView);
  }

  @Get('me')
  async me(@CurrentUser() userId: string): Promise<MembershipView> {
    return toMembershipView(userId, await this.membership.findMembership(userId), new Date());
  }
}
