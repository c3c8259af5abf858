import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { clientIpOf } from './order-channel';
import { ApiErrors } from '../common/api-errors.decorator';
import { RateLimit } from '../common/rate-limit/rate-limit.module';
import { CurrentUser } from '../auth/auth.guard';
import { DomainError } from '../common/errors/domain-error';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersDto } from './dto/list-orders.dto';
import { IdempotencyService } from './idempotency/idempotency.service';
import { OrderList, OrderView } from './order.view';
import { OrdersService } from './orders.service';
import { OrderWithQrImage, QR_IMAGE_INCLUDE, wantsQrImage, withQrImage } from './qr-code-image';

const IncludeQrImage = ApiQuery({
  name: 'include',
  required: false,
  enum: [QR_IMAGE_INCLUDE],
  description: 'qr_code_image: also answer the QR code drawn as a PNG data URL, for clients without a QR library',
});

/** What a fresh payment can answer, under either of its two routes. */
const RefreshErrors = ApiErrors(
  'VALIDATION_FAILED',
  'ORDER_NOT_FOUND',
  'ORDER_ALREADY_PAID',
  'ORDER_NOT_PAYABLE',
  'PAYMENT_CHANNEL_DISABLED',
  'PAYER_REFUSED',
  'PROVIDER_UNAVAILABLE',
  'PROVIDER_TIMEOUT',
  'RATE_LIMITED',
);
@ApiTags('orders')
@ApiBearerAuth()
@ApiErrors('UNAUTHENTICATED')
@Controller('api/v1/payment')
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post('create-order')
  @RateLimit('create-order')
  @ApiOperation({
    summary: 'Create an order and open its payment',
    description:
      'Prices the plan for the caller (purchase, renewal or upgrade) and opens the payment at the provider on the chosen channel (a QR code by default); `pay` carries what that client needs. With `auto_renew: true`, paying it also signs an auto-renewal contract (409 AUTO_RENEW_ACTIVE while one is open). Idempotent with an Idempotency-Key header (24 hours).',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'replays the first answer for the same user, key and body within 24 hours',
  })
  @IncludeQrImage
  @ApiCreatedResponse({ type: OrderWithQrImage })
  @ApiErrors(
    'VALIDATION_FAILED',
    'PAYMENT_METHOD_DISABLED',
    'PAYMENT_CHANNEL_DISABLED',
    'PAYER_REFUSED',
    'PRODUCT_NOT_FOUND',
    'MEMBERSHIP_CONFLICT',
    'UPGRADE_PENDING',
    'AUTO_RENEW_ACTIVE',
    'IDEMPOTENCY_KEY_REUSED',
    'IDEMPOTENCY_KEY_IN_FLIGHT',
    'PROVIDER_UNAVAILABLE',
    'PROVIDER_TIMEOUT',
    'RATE_LIMITED',
  )
  async create(
    @CurrentUser() userId: string,
    @Body() dto: CreateOrderDto,
    @Headers('idempotency-key') key: string | string[] | undefined,
    @Query('include') include: unknown,
    @Res({ passthrough: true }) res: Response,
    @Req() req: Request,
  ): Promise<OrderWithQrImage> {
    const client = { ip: clientIpOf(req.ip) };
    const drawn = wantsQrImage(include) ? withQrImage : async (view: OrderView) => view;
    if (key === undefined) {
      res.status(201);
      return drawn(await this.orders.create(userId, dto, new Date(), undefined, client));
    }
    if (Array.isArray(key)) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['Idempotency-Key must be given once']);
    const result = await this.idempotency.run(userId, key, dto, 201, (m) => this.orders.create(userId, dto, new Date(), m, client));
    res.status(result.status).type('application/json');
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    // The stored text itself, so the first answer and every replay are the same bytes. The image,
    // when asked for, is drawn from that text each time (the same code draws the same image).
    if (!wantsQrImage(include)) return result.text as unknown as OrderWithQrImage;
    return JSON.stringify(await withQrImage(JSON.parse(result.text) as OrderView)) as unknown as OrderWithQrImage;
  }

  @Get('orders')
  @ApiOperation({ summary: "The caller's orders, newest first" })
  @ApiOkResponse({ type: OrderList })
  @ApiErrors('VALIDATION_FAILED', 'ORDER_NOT_FOUND')
  list(@CurrentUser() userId: string, @Query() query: ListOrdersDto) {
    return this.orders.list(userId, query);
  }

  @Get('orders/:order_no')
  @ApiOperation({ summary: "One of the caller's orders" })
  @ApiOkResponse({ type: OrderView })
  @ApiErrors('ORDER_NOT_FOUND')
  get(@CurrentUser() userId: string, @Param('order_no') orderNo: string): Promise<OrderView> {
    return this.orders.get(userId, orderNo);
  }

  @Post('orders/:order_no/cancel')
  @RateLimit('order-action')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Cancel a pending order',
    description: 'Closes its QR code at the provider, then the order. Cancelling a closed order again answers it unchanged.',
  })
  @ApiOkResponse({ type: OrderView })
  @ApiErrors('ORDER_NOT_FOUND', 'ORDER_ALREADY_PAID', 'ORDER_NOT_PAYABLE', 'PROVIDER_UNAVAILABLE', 'PROVIDER_TIMEOUT', 'RATE_LIMITED')
  cancel(@CurrentUser() userId: string, @Param('order_no') orderNo: string): Promise<OrderView> {
    return this.orders.cancel(userId, orderNo);
  }

  @Post('orders/:order_no/refresh')
  @RateLimit('order-action')
  @HttpCode(200)
  @ApiOperation({
    summary: "A fresh payment on the order's channel",
    description:
      "A new payment attempt on the order's channel (a QR code, a prepay_id, an h5_url, an order string or URL, in `pay`); the previous one is closed. Only while the order is pending and not expired, and at most 10 attempts per order (then 409: create a new order).",
  })
  @IncludeQrImage
  @ApiOkResponse({ type: OrderWithQrImage })
  @RefreshErrors
  async refresh(
    @CurrentUser() userId: string,
    @Param('order_no') orderNo: string,
    @Query('include') include: unknown,
    @Req() req: Request,
  ): Promise<OrderWithQrImage> {
    const draw = wantsQrImage(include);
    const view = await this.orders.refreshQr(userId, orderNo, new Date(), { ip: clientIpOf(req.ip) });
    return draw ? withQrImage(view) : view;
  }

  @Post('orders/:order_no/qr-code')
  @RateLimit('order-action')
  @HttpCode(200)
  @ApiOperation({
    summary: 'A fresh QR code (older name of …/refresh)',
    deprecated: true,
    description: 'The same as POST …/refresh, kept for clients written before channels.',
  })
  @IncludeQrImage
  @ApiOkResponse({ type: OrderWithQrImage })
  @RefreshErrors
  refreshQr(
    @CurrentUser() userId: string,
    @Param('order_no') orderNo: string,
    @Query('include') include: unknown,
    @Req() req: Request,
  ): Promise<OrderWithQrImage> {
    return this.refresh(userId, orderNo, include, req);
  }
}
