import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CurrentUser } from '../auth/auth.guard';
import { DomainError } from '../common/errors/domain-error';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersDto } from './dto/list-orders.dto';
import { IdempotencyService } from './idempotency.service';
import { OrderView } from './order.view';
import { OrdersService } from './orders.service';

@Controller('api/v1/payment')
export class OrdersController {
  constructor(private readonly orders: OrdersService, private readonly idempotency: IdempotencyService) {}

  @Post('create-order')
  async create(
    @CurrentUser() userId: string,
    @Body() dto: CreateOrderDto,
    @Headers('idempotency-key') key: string | string[] | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderView> {
    if (key === undefined) {
      res.status(201);
      return this.orders.create(userId, dto);
    }
    if (Array.isArray(key)) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['Idempotency-Key must be given once']);
    const result = await this.idempotency.run(userId, key, dto, 201, () => this.orders.create(userId, dto));
    res.status(result.status);
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return result.body;
  }

  @Get('orders')
  list(@CurrentUser() userId: string, @Query() query: ListOrdersDto) {
    return this.orders.list(userId, query);
  }

  @Get('orders/:order_no')
  get(@CurrentUser() userId: string, @Param('order_no') orderNo: string): Promise<OrderView> {
    return this.orders.get(userId, orderNo);
  }

  @Post('orders/:order_no/cancel')
  @HttpCode(200)
  cancel(@CurrentUser() userId: string, @Param('order_no') orderNo: string): Promise<OrderView> {
    return this.orders.cancel(userId, orderNo);
  }

  @Post('orders/:order_no/qr-code')
  @HttpCode(200)
  refreshQr(@CurrentUser() userId: string, @Param('order_no') orderNo: string): Promise<OrderView> {
    return this.orders.refreshQr(userId, orderNo);
  }
}
