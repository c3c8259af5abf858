import { Controller, Get, Header, Query } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { PaidOrders } from './paid-orders';
import { PaymentRecordsRepository } from './payment-records.repository';
import { Public } from '../auth/auth.guard';
import { fenToYuan } from '../common/money';
import { ProviderRegistry } from './provider-registry';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** What the buyer reads, in Chinese with English beside it, as the checkout page offers both. */
interface Text {
  zh: string;
  en: string;
}
const STATUS_TEXT: Record<string, Text> = {
  paid: { zh: '支付成功，会员已生效。', en: 'Paid. Your membership is active.' },
  pending: {
    zh: '正在等待支付结果确认。本页面不会改变订单，请稍后刷新。',
    en: 'Waiting for the payment to be confirmed. This page does not change the order; refresh in a moment.',
  },
  expired: { zh: '该订单在支付前已过期。', en: 'This order expired before it was paid.' },
  closed: { zh: '该订单已取消。', en: 'This order was cancelled.' },
  failed: { zh: '该订单未能发起支付。', en: 'This order could not be started.' },
  refunded: { zh: '该订单已退款。', en: 'This order was refunded.' },
  partially_refunded: { zh: '该订单已部分退款。', en: 'This order was partly refunded.' },
};
const STATUS_NAME: Record<string, Text> = {
  paid: { zh: '已支付', en: 'paid' },
  pending: { zh: '待确认', en: 'pending' },
  expired: { zh: '已过期', en: 'expired' },
  closed: { zh: '已取消', en: 'cancelled' },
  failed: { zh: '失败', en: 'failed' },
  refunded: { zh: '已退款', en: 'refunded' },
  partially_refunded: { zh: '部分退款', en: 'partly refunded' },
};
const INVALID: Text = {
  zh: '该链接无效：无法验证其签名。请在应用中查看订单。',
  en: 'This link is not valid: its signature could not be verified. Check the order in the app.',
};
const UNKNOWN: Text = { zh: '未找到该订单。', en: 'No such order was found.' };

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
    private readonly orders: PaidOrders,
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
    if (!paymentNo) return page(INVALID);
    const orderId = await this.records.orderIdOf(paymentNo);
    const order = orderId ? await this.orders.returned(orderId) : undefined;
    if (!order) return page(UNKNOWN);
    const status = STATUS_NAME[order.status] ?? { zh: order.status, en: order.status };
    return page(
      STATUS_TEXT[order.status] ?? status,
      [
        [{ zh: '订单号', en: 'Order' }, order.order_no],
        [{ zh: '商品', en: 'Item' }, order.description],
        [{ zh: '金额', en: 'Amount' }, `¥${fenToYuan(order.amount)}`],
        [{ zh: '状态', en: 'Status' }, `${status.zh} · ${status.en}`],
      ],
      // Back where the member came from: the return_url their client gave (an allowed origin,
      // checked when the order was created), else the checkout page.
      order.return_url ?? '/',
    );
  }
}

const both = (t: Text, tag = 'span') =>
  `<${tag} lang="zh-CN">${escape(t.zh)}</${tag}> <${tag} lang="en" class="muted">${escape(t.en)}</${tag}>`;

/** The checkout page's look (its stylesheet, top bar and card), readable on a phone. */
function page(message: Text, rows: [Text, string][] = [], back = '/'): string {
  const table = rows.length
    ? `<dl class="return-facts">${rows.map(([k, v]) => `<div><dt>${both(k)}</dt><dd>${escape(v)}</dd></div>`).join('')}</dl>`
    : '';
  return [
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light">',
    '<title>支付结果 · Payment status</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/checkout/styles.css"></head>',
    '<body><header class="topbar"><div class="brand"><span class="brand-mark" aria-hidden="true">m</span><span>memberpay</span></div></header>',
    '<main id="main" class="layout return-page"><div class="column-main"><section class="card">',
    `<h1>${both({ zh: '支付结果', en: 'Payment status' })}</h1>`,
    `<p class="lead">${escape(message.zh)}</p><p class="muted" lang="en">${escape(message.en)}</p>`,
    table,
    `<p><a class="return-back" href="${escape(back)}">${both({ zh: '返回', en: 'Back' })}</a></p>`,
    '</section></div></main></body></html>',
  ].join('');
}
