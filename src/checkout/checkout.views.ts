import { ApiProperty } from '@nestjs/swagger';
import { OFFERED_CHANNELS, PROVIDER_DESCRIPTORS } from '../payments/provider-catalog';
import { PROVIDER_NAMES, type ProviderName } from '../payments/provider-name';

/** Per payment method, the channels create-order accepts: one property per provider, documented from its descriptor. */
export class EnabledChannels {}
/** Per payment method, the sandbox's pay page, or null. */
export class SandboxPayPages {}
for (const d of PROVIDER_DESCRIPTORS) {
  ApiProperty({ enum: OFFERED_CHANNELS, isArray: true, example: Object.keys(d.channels) })(EnabledChannels.prototype, d.name);
  ApiProperty({ type: String, nullable: true, example: 'http://127.0.0.1:8002/sandbox/pay' })(SandboxPayPages.prototype, d.name);
}

/** What the checkout page needs to know about this instance before it signs in. */
export class CheckoutConfigView {
  @ApiProperty({ description: 'the providers are the local sandbox: no real money moves' }) sandbox: boolean;
  @ApiProperty({ description: 'POST /api/v1/checkout/demo-token issues tokens (never in production)' }) demo_token: boolean;
  @ApiProperty({ enum: PROVIDER_NAMES, isArray: true, description: 'the payment methods this instance has configured' })
  payment_methods: string[];
  @ApiProperty({
    type: EnabledChannels,
    description: 'per method, the channels create-order accepts (the page offers h5 / wap on a phone-sized screen)',
  })
  channels: Record<ProviderName, string[]>;
  @ApiProperty({
    type: SandboxPayPages,
    description: 'per method, the sandbox page that pays a QR code (add ?qr=<qr_code_url>); null outside the sandbox',
  })
  sandbox_pay_page: Record<ProviderName, string | null>;
  @ApiProperty({
    type: SandboxPayPages,
    description:
      'per method, the sandbox page where an auto-renewal order is signed (and, with WeChat Pay, paid): add ?qr=<qr_code_url>; null outside the sandbox',
  })
  sandbox_sign_page: Record<ProviderName, string | null>;
}

export class DemoTokenView {
  @ApiProperty({ example: 'demo' }) user_id: string;
  @ApiProperty({ description: 'an HS256 bearer token for user_id' }) token: string;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
}
