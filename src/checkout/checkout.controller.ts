import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { CheckoutService } from './checkout.service';
import { CheckoutConfigView, DemoTokenView } from './checkout.views';

@ApiTags('checkout page')
@Controller('api/v1/checkout')
export class CheckoutController {
  constructor(private readonly checkout: CheckoutService) {}

  @Public()
  @Get('config')
  @ApiOperation({ summary: 'What the checkout page at / needs: sandbox or not, the payment methods, the sandbox pay page' })
  @ApiOkResponse({ type: CheckoutConfigView })
  config(): CheckoutConfigView {
    return this.checkout.pageConfig();
  }

  @Public()
  @Post('demo-token')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Development only: a one-hour token for the demo member',
    description: 'Refused in production (403 FORBIDDEN).',
  })
  @ApiOkResponse({ type: DemoTokenView })
  @ApiErrors('FORBIDDEN')
  demoToken(): DemoTokenView {
    return this.checkout.demoToken();
  }
}
