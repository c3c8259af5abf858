import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, Matches } from 'class-validator';
import { ServiceOnly } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { EntitlementList, EntitlementView } from './entitlement';
import { MembershipService } from './membership.service';

/** As the tokens' `sub`: user ids travel in rows and logs, short and printable. */
const USER_ID = /^[\w.:@-]{1,64}$/;
/** A service warming its cache asks for a page of members at a time. */
export const ENTITLEMENTS_BATCH_MAX = 100;

class UserIdParam {
  @Matches(USER_ID, { message: 'user_id must be a user id' }) user_id: string;
}

class UserIdsQuery {
  @ApiProperty({ description: `comma-separated user ids, at most ${ENTITLEMENTS_BATCH_MAX}`, example: '42,43,44' })
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value))
  @IsArray({ message: 'user_ids must be a comma-separated list of user ids' })
  @ArrayMinSize(1, { message: 'user_ids must name at least one user' })
  @ArrayMaxSize(ENTITLEMENTS_BATCH_MAX, { message: `user_ids may name at most ${ENTITLEMENTS_BATCH_MAX} users` })
  @Matches(USER_ID, { each: true, message: 'user_ids must be a comma-separated list of user ids' })
  user_ids: string[];
}

/** Who is a member, at which level, until when: read by other backend services with a service token. */
@ApiTags('entitlements (services)')
@ServiceOnly()
@Controller('api/v1/entitlements')
export class EntitlementsController {
  constructor(private readonly membership: MembershipService) {}

  @Get()
  @ApiOperation({ summary: 'Several members’ entitlements at once (a service warming its cache), in the order asked' })
  @ApiOkResponse({ type: EntitlementList })
  @ApiErrors('VALIDATION_FAILED')
  async many(@Query() query: UserIdsQuery): Promise<EntitlementList> {
    return { data: await this.membership.entitlements([...new Set(query.user_ids)], new Date()) };
  }

  @Get(':user_id')
  @ApiOperation({ summary: 'A member’s entitlement, correct at the instant asked (a period that ended a second ago does not count)' })
  @ApiOkResponse({ type: EntitlementView })
  @ApiErrors('VALIDATION_FAILED')
  async one(@Param() params: UserIdParam): Promise<EntitlementView> {
    const [entitlement] = await this.membership.entitlements([params.user_id], new Date());
    return entitlement;
  }
}
