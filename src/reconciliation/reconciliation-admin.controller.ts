import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminCaller, CurrentAdmin } from '../audit/audit-log';
import { AdminOnly } from '../auth/auth.guard';
import { ApiErrors } from '../common/api-errors.decorator';
import { ItemIdDto, ListItemsDto, ListRunsDto, RerunDayDto, ResolveItemDto, RunIdDto } from './dto/reconciliation-admin.dto';
import { ReconciliationAdminService } from './reconciliation-admin.service';
import { ItemList, ItemView, RerunView, RunList } from './reconciliation.views';

@ApiTags('admin: reconciliation')
@AdminOnly()
@Controller('api/v1/admin/reconciliation')
export class ReconciliationAdminController {
  constructor(private readonly admin: ReconciliationAdminService) {}

  @Get('runs')
  @ApiOperation({
    summary: 'Reconciled days',
    description: 'One run per provider and Beijing bill day, newest day first, with its counts per outcome.',
  })
  @ApiOkResponse({ type: RunList })
  @ApiErrors('VALIDATION_FAILED')
  listRuns(@Query() query: ListRunsDto): Promise<RunList> {
    return this.admin.listRuns(query.from, query.to);
  }

  @Get('runs/:id/items')
  @ApiOperation({ summary: "A run's items", description: 'Discrepancies first; filter with ?outcome=.' })
  @ApiOkResponse({ type: ItemList })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  listItems(@Param() params: RunIdDto, @Query() query: ListItemsDto): Promise<ItemList> {
    return this.admin.listItems(params.id, query.outcome);
  }

  @Post('items/:id/resolve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resolve a discrepancy',
    description:
      'Records who resolved it and the note; it no longer counts as open. Reconciling the day again keeps the resolution while the item comes out the same.',
  })
  @ApiOkResponse({ type: ItemView })
  @ApiErrors('VALIDATION_FAILED', 'NOT_FOUND')
  resolve(@Param() params: ItemIdDto, @Body() body: ResolveItemDto, @CurrentAdmin() caller: AdminCaller): Promise<ItemView> {
    return this.admin.resolve(params.id, body.note, caller);
  }

  @Post('runs')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reconcile a day again now',
    description:
      "Fetches the provider's bill of `bill_date` and compares it again, replacing the day's result (resolutions are kept while an " +
      'item comes out the same). Recorded in the audit log with the reason. `skipped` when another caller is reconciling the day now.',
  })
  @ApiOkResponse({ type: RerunView })
  @ApiErrors('VALIDATION_FAILED', 'PAYMENT_METHOD_DISABLED')
  rerun(@Body() body: RerunDayDto, @CurrentAdmin() caller: AdminCaller): Promise<RerunView> {
    return this.admin.rerun(body.provider, body.bill_date, body.reason, caller);
  }
}
