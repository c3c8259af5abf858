import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.guard';
import { TokenService } from '../auth/token.service';
import { ApiErrors } from '../common/api-errors.decorator';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig } from '../config/app-config';
import { PROVIDER_DESCRIPTORS } from '../payments/provider-catalog';
import { ConsoleConfigView, ConsoleDemoTokenView } from './console.views';

/** Every browser that asks gets the same demo admin: a development convenience, not a sign-in. */
export const DEMO_ADMIN_ID = 'demo-admin';
/** Long enough for a session at the console, short enough to stay inside any sane token lifetime limit. */
const DEMO_TOKEN_TTL_SECONDS = 3600;

/**
 * What the console page at /admin/ needs before it signs in. Outside /api/v1/admin/ on purpose:
 * every route there is for admins only, and these two are what a browser without a token asks.
 */
@ApiTags('support console page')
@Controller('api/v1/console')
export class ConsoleController {
  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
  ) {}

  @Public()
  @Get('config')
  @ApiOperation({ summary: 'What the console at /admin/ needs: sandbox or not, whether the demo admin is offered, the providers' })
  @ApiOkResponse({ type: ConsoleConfigView })
  configView(): ConsoleConfigView {
    return {
      sandbox: this.config.sandbox,
      demo_token: !this.config.isProduction,
      payment_methods: PROVIDER_DESCRIPTORS.filter((d) => this.config[d.name]).map((d) => d.name),
    };
  }

  @Public()
  @Post('demo-token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Development only: a one-hour admin token for the demo admin',
    description: 'Refused in production (403 FORBIDDEN): there admins bring a token from the user service.',
  })
  @ApiOkResponse({ type: ConsoleDemoTokenView })
  @ApiErrors('FORBIDDEN')
  demoToken(): ConsoleDemoTokenView {
    if (this.config.isProduction) {
      throw new DomainError('FORBIDDEN', 'Demo admin tokens are issued only in development: sign in with a token from the user service');
    }
    const ttl = Math.min(DEMO_TOKEN_TTL_SECONDS, this.config.jwtMaxTtlSeconds);
    return {
      user_id: DEMO_ADMIN_ID,
      token: this.tokens.sign(DEMO_ADMIN_ID, ttl, { admin: true }),
      expires_at: new Date(Date.now() + ttl * 1000).toISOString(),
    };
  }
}
