import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { NotFoundError } from '../common/errors/domain-error';
import { AdminOrderDetail, AdminOrderList, AdminOrderRow } from './admin-order.view';
import type { Row as SqlRow } from './console-read.repository';
import { ConsoleReadService } from './console-read.service';
import { ListAdminOrdersDto } from './dto/list-admin-orders.dto';
import { RefundsService } from '../refunds/refunds.service';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function orderRow(o: SqlRow): AdminOrderRow {
  return {
    order_no: o.order_no,
    user_id: o.user_id,
    status: o.status,
    amount: o.amount,
    refunded_amount: o.refunded_amount,
    upgrade_shortfall: o.upgrade_shortfall,
    currency: o.currency,
    description: o.description,
    product_id: o.product_id,
    is_upgrade: o.is_upgrade,
    payment_method: o.payment_method,
    payment_no: o.payment_no,
    transaction_id: o.transaction_id,
    expire_at: iso(o.expire_at)!,
    paid_at: iso(o.paid_at),
    created_at: iso(o.created_at)!,
    updated_at: iso(o.updated_at)!,
  };
}

/** Every column of the grant, its times in ISO 8601 (its shape is the membership module's). */
function grantView(g: SqlRow) {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(g)) if (k !== 'id' && k !== 'order_id') out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

/** Support's views of orders: find one, then see everything about it in one answer. */
@ApiTags('admin: orders')
@AdminOnly()
@Controller('api/v1/admin/orders')
export class AdminOrdersController {
  constructor(
    private readonly read: ConsoleReadService,
    private readonly refunds: RefundsService,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Find orders',
    description: 'Filters `user_id`, `status`, `from`/`to` (created_at), newest first; `limit` and `starting_after` as Stripe lists.',
  })
  @ApiOkResponse({ type: AdminOrderList })
  @ApiErrors('VALIDATION_FAILED', 'ORDER_NOT_FOUND')
  async list(@Query() q: ListAdminOrdersDto): Promise<AdminOrderList> {
    const page = await this.read.orders({
      userId: q.user_id,
      status: q.status,
      from: q.from,
      to: q.to,
      limit: q.limit,
      startingAfter: q.starting_after,
    });
    return { data: page.rows.map(orderRow), has_more: page.hasMore };
  }

  @Get(':order_no')
  @ApiOperation({
    summary: 'Everything about one order',
    description: 'The order, its payment attempts, its membership grant and periods, its refunds and its events.',
  })
  @ApiOkResponse({ type: AdminOrderDetail })
  @ApiErrors('ORDER_NOT_FOUND')
  async get(@Param('order_no') orderNo: string): Promise<AdminOrderDetail> {
    const [detail, refunds] = await Promise.all([this.read.orderDetail(orderNo), this.refunds.listForOrder(orderNo)]);
    if (!detail) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    const { order, attempts, grant, periods, events } = detail;
    return {
      order: { ...orderRow(order), plan_code: order.plan_code },
      attempts: attempts.map((a) => ({
        payment_no: a.payment_no,
        payment_method: a.payment_method,
        amount: a.amount,
        status: a.status,
        trade_state: a.trade_state,
        transaction_id: a.transaction_id,
        qr_code_expire_at: iso(a.qr_code_expire_at),
        query_count: a.query_count,
        paid_at: iso(a.paid_at),
        created_at: iso(a.created_at)!,
      })),
      grant: grant ? grantView(grant) : null,
      periods: periods.map((p) => ({ level: p.level, plan_id: p.plan_id, starts_at: iso(p.starts_at)!, ends_at: iso(p.ends_at)! })),
      refunds,
      events: events.map((e) => ({ id: String(e.id), type: e.type, payload: e.payload, created_at: iso(e.created_at)! })),
    };
  }
}
