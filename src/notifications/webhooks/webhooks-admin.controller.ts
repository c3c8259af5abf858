import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../auth/auth.guard';
import { ApiErrors } from '../../common/api-errors.decorator';
import { CreateEndpointDto, DeliveryIdDto, EndpointIdDto, ListDeliveriesDto, UpdateEndpointDto } from './webhooks-admin.dto';
import { WebhooksAdminService } from './webhooks-admin.service';
import { DeliveryList, DeliveryView, EndpointList, EndpointView, EndpointWithSecret } from './webhooks-admin.views';

@ApiTags('admin: webhooks')
@AdminOnly()
@Controller('api/v1/admin')
export class WebhooksAdminController {
  constructor(private readonly admin: WebhooksAdminService) {}

  @Post('webhook-endpoints')
  @ApiOperation({ summary: 'Register a webhook endpoint', description: 'Answers its signing secret (whsec_…), this once.' })
  @ApiCreatedResponse({ type: EndpointWithSecret })
  @ApiErrors('VALIDATION_FAILED')
  create(@Body() body: CreateEndpointDto): Promise<EndpointWithSecret> {
    return this.admin.create(body);
  }

  @Get('webhook-endpoints')
  @ApiOperation({ summary: 'The webhook endpoints' })
  @ApiOkResponse({ type: EndpointList })
  list(): Promise<EndpointList> {
    return this.admin.list();
  }

  @Get('webhook-endpoints/:id')
  @ApiOperation({ summary: 'One webhook endpoint, with why it was disabled if it was' })
  @ApiOkResponse({ type: EndpointView })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  get(@Param() params: EndpointIdDto): Promise<EndpointView> {
    return this.admin.get(params.id);
  }

  @Patch('webhook-endpoints/:id')
  @ApiOperation({ summary: 'Change the URL, the event types, the description, or enable / disable it' })
  @ApiOkResponse({ type: EndpointView })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  update(@Param() params: EndpointIdDto, @Body() body: UpdateEndpointDto): Promise<EndpointView> {
    return this.admin.update(params.id, body);
  }

  @Delete('webhook-endpoints/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a webhook endpoint and its delivery history' })
  @ApiNoContentResponse()
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  remove(@Param() params: EndpointIdDto): Promise<void> {
    return this.admin.remove(params.id);
  }

  @Post('webhook-endpoints/:id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({ summary: 'A new signing secret (shown once); the old one keeps signing beside it for 24 h' })
  @ApiOkResponse({ type: EndpointWithSecret })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  rotate(@Param() params: EndpointIdDto): Promise<EndpointWithSecret> {
    return this.admin.rotate(params.id);
  }

  @Get('webhook-endpoints/:id/deliveries')
  @ApiOperation({ summary: "An endpoint's deliveries, newest first, each with its attempts" })
  @ApiOkResponse({ type: DeliveryList })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  deliveries(@Param() params: EndpointIdDto, @Query() query: ListDeliveriesDto): Promise<DeliveryList> {
    return this.admin.deliveries(params.id, query);
  }

  @Post('webhook-deliveries/:id/redeliver')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send a delivery again now, whatever it came to (same event id and body)' })
  @ApiAcceptedResponse({ type: DeliveryView })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  redeliver(@Param() params: DeliveryIdDto): Promise<DeliveryView> {
    return this.admin.redeliver(params.id);
  }
}
