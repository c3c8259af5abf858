import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { NotFoundError } from '../common/errors/domain-error';
import { DEFAULT_PAGE_LIMIT } from '../common/http/page-query';
import { ORDER_NO_PATTERN } from '../orders/order-status';
import { AdminOrderDetail, AdminOrderList, AdminOrderRow } from './admin-order.view';
import { AdminOrdersRepository, SqlRow } from './admin-orders.repository';
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
    private readonly repo: AdminOrdersRepository,
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
    const limit = q.limit ?? DEFAULT_PAGE_LIMIT;
    let after: { created_at: Date; order_no: string } | undefined;
    if (q.starting_after) {
      const cursor = await this.repo.order(q.starting_after);
      if (!cursor) throw new NotFoundError('ORDER_NOT_FOUND', 'starting_after names no order');
      after = { created_at: cursor.created_at, order_no: cursor.order_no };
    }
    const rows = await this.repo.list({
      userId: q.user_id,
      status: q.status,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      limit,
      after,
    });
    return { data: rows.slice(0, limit).map(orderRow), has_more: rows.length > limit };
  }

  @Get(':order_no')
  @ApiOperation({
    summary: 'Everything about one order',
    description: 'The order, its payment attempts, its membership grant and periods, its refunds and its events.',
  })
  @ApiOkResponse({ type: AdminOrderDetail })
  @ApiErrors('ORDER_NOT_FOUND')
  async get(@Param('order_no') orderNo: string): Promise<AdminOrderDetail> {
    const order = ORDER_NO_PATTERN.test(orderNo) ? await this.repo.order(orderNo) : undefined;
    if (!order) throw new NotFoundError('ORDER_NOT_FOUND', 'No such order was found');
    const [attempts, grant, periods, refunds, events] = await Promise.all([
      this.repo.attempts(order.id),
      this.repo.grant(order.id),
      this.repo.periods(order.id),
      this.refunds.listForOrder(orderNo),
      this.repo.events(order.id),
    ]);
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
