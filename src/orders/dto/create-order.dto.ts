import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsUrl, Matches, MaxLength, Max, Min } from 'class-validator';
import { describeChannels, OFFERED_CHANNELS } from '../../payments/provider-catalog';
import type { PaymentChannel } from '../../payments/payment-channel';
import { PAYMENT_METHODS, PRODUCT_TYPES, type PaymentMethod, type ProductType } from '../order-status';

export class CreateOrderDto {
  @ApiProperty({ enum: PRODUCT_TYPES })
  @IsIn(PRODUCT_TYPES, { message: `product_type must be one of: ${PRODUCT_TYPES.join(', ')}` })
  product_type: ProductType;

  @ApiProperty({ example: 1, description: 'a membership plan id (GET /api/v1/membership/plans)' })
  @IsInt({ message: 'product_id must be an integer' })
  @Min(1, { message: 'product_id must be a positive integer' })
  @Max(2_147_483_647, { message: 'product_id is too large' })
  product_id: number;

  @ApiProperty({ enum: PAYMENT_METHODS })
  @IsIn(PAYMENT_METHODS, { message: `payment_method must be one of: ${PAYMENT_METHODS.join(', ')}` })
  payment_method: PaymentMethod;

  @ApiPropertyOptional({
    enum: OFFERED_CHANNELS,
    default: 'qr',
    description: `how the member pays; the answer's \`pay\` carries what that client needs. ${describeChannels()}`,
  })
  @IsOptional()
  @IsIn(OFFERED_CHANNELS, { message: `channel must be one of: ${OFFERED_CHANNELS.join(', ')}` })
  channel?: PaymentChannel;

  @ApiPropertyOptional({
    description: "jsapi: the payer's openid under app_id (from WeChat's OAuth or wx.login)",
    example: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  })
  @IsOptional()
  @Matches(/^[0-9A-Za-z_-]{1,128}$/, { message: 'openid must be 1 to 128 letters, digits, _ or -' })
  openid?: string;

  @ApiPropertyOptional({
    description: 'jsapi: the official account or mini program app id the openid belongs to (default: the first configured)',
    example: 'wxd930ea5d5a258f4f',
  })
  @IsOptional()
  @Matches(/^wx[0-9A-Za-z]{8,30}$/, { message: 'app_id must be a WeChat app id (wx…)' })
  app_id?: string;

  @ApiPropertyOptional({
    description:
      'h5, wap, page: where the browser goes back after paying; must be on an origin in PAYMENT_RETURN_URL_ORIGINS (default: the configured page)',
  })
  @IsOptional()
  @MaxLength(1024, { message: 'return_url must be at most 1024 characters' })
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'return_url must be an http(s) URL' })
  return_url?: string;

  @ApiPropertyOptional({ enum: ['Wap', 'iOS', 'Android'], default: 'Wap', description: 'h5: the kind of page the payment starts from' })
  @IsOptional()
  @IsIn(['Wap', 'iOS', 'Android'], { message: 'h5_type must be one of: Wap, iOS, Android' })
  h5_type?: 'Wap' | 'iOS' | 'Android';

  @ApiPropertyOptional({ default: false, description: "move an active lower-level membership to this plan's level" })
  @IsOptional()
  @IsBoolean({ message: 'is_upgrade must be a boolean' })
  is_upgrade?: boolean;

  @ApiPropertyOptional({
    default: false,
    description:
      "auto-renewal: paying the order also signs a contract that renews the plan at its price every period (WeChat Pay pays and signs at once; Alipay signs, then deducts the first period). Only where GET /membership/plans says auto_renew, on the qr channel (also h5 for WeChat Pay, wap for Alipay). 409 AUTO_RENEW_ACTIVE while the member has a contract open; an upgrade with auto_renew ends the member's contract for the lower level and signs a new one.",
  })
  @IsOptional()
  @IsBoolean({ message: 'auto_renew must be a boolean' })
  auto_renew?: boolean;
}
