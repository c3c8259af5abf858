import { ApiProperty } from '@nestjs/swagger';
import { PAYMENT_METHODS } from '../orders/order-status';
import { OFFERED_CHANNELS } from '../payments/channel-catalog';

export class EnabledChannels {
  @ApiProperty({ enum: OFFERED_CHANNELS, isArray: true, example: ['qr', 'h5'] }) wechat: string[];
  @ApiProperty({ enum: OFFERED_CHANNELS, isArray: true, example: ['qr', 'wap'] }) alipay: string[];
}

export class SandboxPayPages {
  @ApiProperty({ type: String, nullable: true, example: 'http://127.0.0.1:8002/sandbox/pay' }) wechat: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'http://127.0.0.1:8002/sandbox/pay' }) alipay: string | null;
}

/** What the checkout page needs to know about this instance before it signs in. */
export class CheckoutConfigView {
  @ApiProperty({ description: 'the providers are the local sandbox: no real money moves' }) sandbox: boolean;
  @ApiProperty({ description: 'POST /api/v1/checkout/demo-token issues tokens (never in production)' }) demo_token: boolean;
  @ApiProperty({ enum: PAYMENT_METHODS, isArray: true, description: 'the payment methods this instance has configured' })
  payment_methods: string[];
  @ApiProperty({ type: EnabledChannels, description: 'per method, the channels create-order accepts (the page offers h5 / wap on a phone-sized screen)' })
  channels: EnabledChannels;
  @ApiProperty({ type: SandboxPayPages, description: 'per method, the sandbox page that pays a QR code (add ?qr=<qr_code_url>); null outside the sandbox' })
  sandbox_pay_page: SandboxPayPages;
}

export class DemoTokenView {
  @ApiProperty({ example: 'demo' }) user_id: string;
  @ApiProperty({ description: 'an HS256 bearer token for user_id' }) token: string;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
}
