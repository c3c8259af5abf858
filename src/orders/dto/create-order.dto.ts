import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
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

  @ApiPropertyOptional({ default: false, description: 'move an active lower-level membership to this plan\'s level' })
  @IsOptional()
  @IsBoolean({ message: 'is_upgrade must be a boolean' })
  is_upgrade?: boolean;
}
