import { ApiProperty } from '@nestjs/swagger';
import { DELIVERY_STATUSES } from './webhook-delivery.entity';

export class EndpointView {
  @ApiProperty() id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) events: string[];
  @ApiProperty() description: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'why the service disabled it (after 3 days of nothing but failures)' })
  disabled_reason: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) disabled_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'the first failure since the last success' })
  failing_since: string | null;
  @ApiProperty({ description: 'the start of the signing secret, to tell secrets apart' }) secret_hint: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'the previous secret signs too until then' })
  previous_secret_expires_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class EndpointWithSecret extends EndpointView {
  @ApiProperty({ description: 'the signing secret, shown this once', example: 'whsec_…' }) secret: string;
}

export class EndpointList {
  @ApiProperty({ type: [EndpointView] }) data: EndpointView[];
}

export class AttemptView {
  @ApiProperty({ format: 'date-time' }) attempted_at: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null: no answer (refused, timed out, connection closed)' })
  status_code: number | null;
  @ApiProperty() latency_ms: number;
  @ApiProperty({ type: String, nullable: true, description: 'the first 1 KB of the answer' }) response_body: string | null;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

export class DeliveryView {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'the event id (Memberpay-Event-Id)' }) event_id: string;
  @ApiProperty() type: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status: string;
  @ApiProperty() attempt_count: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'when it is tried next, while pending' })
  next_attempt_at: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) delivered_at: string | null;
  @ApiProperty({ type: [AttemptView] }) attempts: AttemptView[];
}

export class DeliveryList {
  @ApiProperty({ type: [DeliveryView] }) data: DeliveryView[];
  @ApiProperty() has_more: boolean;
}
