import { ApiProperty } from '@nestjs/swagger';
import { PAYMENT_METHODS } from '../orders/order-status';

export class ConsoleConfigView {
  @ApiProperty({ description: 'the providers are the local sandbox: no real money moves' }) sandbox: boolean;
  @ApiProperty({ description: 'POST /api/v1/console/demo-token issues admin tokens (never in production)' }) demo_token: boolean;
  @ApiProperty({ enum: PAYMENT_METHODS, isArray: true }) payment_methods: string[];
}

export class ConsoleDemoTokenView {
  @ApiProperty({ example: 'demo-admin' }) user_id: string;
  @ApiProperty({ description: 'an HS256 bearer token with role "admin"' }) token: string;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
}
