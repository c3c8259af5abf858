import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PaymentRecordsRepository } from './payment-records.repository';
import { Public } from '../auth/auth.guard';
import { fenToYuan } from '../common/money';
import { ProviderRegistry } from './provider-registry';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const STATUS_TEXT: Record<string, string> = {
  paid: 'Paid. Your membership is active.',
  pending: 'Waiting for the payment to be confirmed. This page does not change the order; refresh in a moment.',
  expired: 'This order expired before it was paid.',
  closed: 'This order was cancelled.',
  failed: 'This order could not be started.',
  refunded: 'This order was refunded.',
};

/**
 * GET /payment/return: where the buyer's browser lands after paying with Alipay. It verifies the
 * signature of the query and shows the order's status from our database. It never settles an
 * order: the redirect can be lost, replayed or forged (docs/alipay.md#return-url).
 */
@ApiTags('provider callbacks')
@Public()
@Controller('payment')
export class ReturnPageController {
  constructor(
    private readonly registry: ProviderRegistry,
    private readonly records: PaymentRecordsRepository,
  ) {}

  @Get('return')
  @ApiOperation({
    summary: 'Alipay return page (HTML)',
    description: 'Register as ALIPAY_RETURN_URL. Shows the order status after verifying the signature; never settles.',
  })
  @ApiProduces('text/html')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async show(@Query() query: Record<string, unknown>): Promise<string> {
    const params = Object.fromEntries(Object.entries(query).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const paymentNo = this.registry.verifyReturn(params);
    if (!paymentNo)
      return page('Payment status', 'This link is not valid: its signature could not be verified. Check the order in the app.');
    const order = await this.records.orderOf(paymentNo);
    if (!order) return page('Payment status', 'No such order was found.');
    return page('Payment status', `${STATUS_TEXT[order.status] ?? order.status}`, [
      ['Order', order.order_no],
      ['Item', order.description],
      ['Amount', `¥${fenToYuan(order.amount)}`],
      ['Status', order.status],
    ]);
  }
}

function page(title: string, message: string, rows: [string, string][] = []): string {
  const table = rows.length ? `<table>${rows.map(([k, v]) => `<tr><th>${escape(k)}</th><td>${escape(v)}</td></tr>`).join('')}</table>` : '';
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(message)}</p>${table}</body></html>`
  );
}
