import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminCaller, CurrentAdmin } from '../audit/audit-log';
import { AdminOnly } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { ExportBooksDto, ListAuditLogDto, SearchOrdersDto, UserIdDto } from './dto/console-read.dto';
import { ConsoleReadService } from './console-read.service';
import { AuditLogList, MemberView, OrderStory, SupportOrderList } from './console-read.views';

/** The support console's reads (the page at /admin/ calls these; they are plain admin API routes too). */
@ApiTags('admin: support console')
@AdminOnly()
@Controller('api/v1/admin')
export class ConsoleReadController {
  constructor(private readonly support: ConsoleReadService) {}

  @Get('search')
  @ApiOperation({
    summary: 'Find orders by any number',
    description:
      '`q` is matched exactly against order numbers, payment numbers (out_trade_no), WeChat Pay transaction_id / Alipay trade_no, ' +
      "refund numbers (ours and the provider's) and user ids; filters `status`, `provider`, `channel`, `from`/`to` (created_at). " +
      'Newest first; `limit` and `starting_after` as Stripe lists. Each order says what `q` matched (`matched_by`).',
  })
  @ApiOkResponse({ type: SupportOrderList })
  @ApiErrors('VALIDATION_FAILED', 'ORDER_NOT_FOUND')
  search(@Query() q: SearchOrdersDto): Promise<SupportOrderList> {
    return this.support.search(q);
  }

  @Get('orders/:order_no/timeline')
  @ApiOperation({
    summary: "An order's story",
    description:
      'Everything that happened to the order, oldest first: created (price and plan), each payment attempt (channel, link, closed), ' +
      'notifications refused that named it (the rejection code and how many, per minute), ' +
      'the payment (with the verified notification or query that settled it), the grant and its periods, each refund and how it ended, ' +
      'the events sent to the member, the reconciliation items that touched it and the admin actions on it.',
  })
  @ApiOkResponse({ type: OrderStory })
  @ApiErrors('ORDER_NOT_FOUND')
  story(@Param('order_no') orderNo: string): Promise<OrderStory> {
    return this.support.story(orderNo);
  }

  @Get('members/:user_id')
  @ApiOperation({
    summary: 'A member',
    description:
      'The level now, every period (past, current, future), the latest orders and refunds, and the latest auto-renewal contract ' +
      '(`auto_renewal`, null when the member never had one; cancel it with POST …/members/:user_id/auto-renew/cancel).',
  })
  @ApiOkResponse({ type: MemberView })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  member(@Param() params: UserIdDto): Promise<MemberView> {
    return this.support.member(params.user_id);
  }

  @Get('audit-log')
  @ApiOperation({
    summary: 'The admin audit log',
    description:
      'Every admin action (refunds, resolved discrepancies, re-run days, exports): who, when, what, from which address and why, newest first. ' +
      'Each entry was written in the transaction of its action; no route changes or deletes one.',
  })
  @ApiOkResponse({ type: AuditLogList })
  @ApiErrors('VALIDATION_FAILED')
  auditLog(@Query() q: ListAuditLogDto): Promise<AuditLogList> {
    return this.support.auditLog(q);
  }

  @Get('reconciliation/export.csv')
  @ApiOperation({
    summary: "The day's books as CSV",
    description:
      'The reconciled items of the Beijing bill days `from`..`to` (one day: `from` alone), one line each: order, payment and refund ' +
      'numbers, the provider trade number, both amounts in yuan, status on both sides, matched or why not, what was done. UTF-8 with a BOM. ' +
      'Recorded in the audit log.',
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: 'text/csv; charset=utf-8, with a BOM', schema: { type: 'string' } })
  @ApiErrors('VALIDATION_FAILED')
  async exportBooks(@Query() q: ExportBooksDto, @CurrentAdmin() caller: AdminCaller, @Res() res: Response): Promise<void> {
    const { filename, csv, rows } = await this.support.exportBooks(q, caller);
    res
      .status(200)
      .type('text/csv; charset=utf-8')
      .setHeader('Content-Disposition', `attachment; filename="${filename}"`)
      .setHeader('X-Row-Count', String(rows))
      .setHeader('Cache-Control', 'no-store')
      .send(csv);
  }
}
