import { Body, Controller, Get, Headers, Param, Post, Query, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminOnly, CurrentUser } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { DomainError } from '../common/errors/domain-error';
import { IdempotencyService } from '../orders/idempotency/idempotency.service';
import { CreateRefundDto, ListRefundsDto } from './dto/create-refund.dto';
import { RefundList, RefundView } from './refund.view';
import { RefundsService } from './refunds.service';

@ApiTags('admin: refunds')
@AdminOnly()
@Controller('api/v1/admin')
export class RefundsController {
  constructor(
    private readonly refunds: RefundsService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post('orders/:order_no/refunds')
  @ApiOperation({
    summary: 'Refund a paid order, in full or in part',
    description:
      'Without `amount`, everything not yet refunded. Answers 202 with the refund: `success` when the provider ' +
      'confirmed at once (Alipay), else `processing` until its notification or the refund job finishes it. A full refund ' +
      'that succeeds marks the order `refunded` and removes its membership periods; a partial one marks it ' +
      '`partially_refunded` and keeps access. Idempotent with an Idempotency-Key header (24 hours), as create-order.',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'replays the first answer for the same admin, key and body within 24 hours',
  })
  @ApiResponse({ status: 202, type: RefundView, description: 'recorded and sent to the provider' })
  @ApiErrors(
    'VALIDATION_FAILED',
    'PAYMENT_METHOD_DISABLED',
    'ORDER_NOT_FOUND',
    'ORDER_NOT_REFUNDABLE',
    'REFUND_EXCEEDS_PAID',
    'REFUND_REFUSED',
    'IDEMPOTENCY_KEY_REUSED',
    'IDEMPOTENCY_KEY_IN_FLIGHT',
  )
  async create(
    @CurrentUser() adminId: string,
    @Param('order_no') orderNo: string,
    @Body() dto: CreateRefundDto,
    @Headers('idempotency-key') key: string | string[] | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<RefundView> {
    if (key === undefined) {
      res.status(202);
      return this.refunds.request(adminId, orderNo, dto);
    }
    if (Array.isArray(key)) throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['Idempotency-Key must be given once']);
    // The order is part of the request: one key cannot refund two orders.
    const result = await this.idempotency.run(adminId, key, { refund_of: orderNo, ...dto }, 202, () =>
      this.refunds.request(adminId, orderNo, dto),
    );
    res.status(result.status).type('application/json');
    if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return result.text as unknown as RefundView; // the answer as first sent, byte for byte
  }

  @Get('orders/:order_no/refunds')
  @ApiOperation({ summary: "An order's refunds, oldest first" })
  @ApiOkResponse({ type: RefundList })
  @ApiErrors('ORDER_NOT_FOUND')
  async listForOrder(@Param('order_no') orderNo: string): Promise<{ data: RefundView[]; has_more: boolean }> {
    return { data: await this.refunds.listForOrder(orderNo), has_more: false };
  }

  @Get('refunds')
  @ApiOperation({ summary: 'All refunds, newest first', description: '`?status=abnormal` lists the refunds stuck at a provider.' })
  @ApiOkResponse({ type: RefundList })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  list(@Query() query: ListRefundsDto) {
    return this.refunds.list({ status: query.status, limit: query.limit, startingAfter: query.starting_after });
  }
}
