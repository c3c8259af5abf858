// Alipay's trade bill (docs/reconciliation.md, Alipay): alipay.data.dataservice.bill.downloadurl.query answers a
// bill_download_url (valid 30 s, a plain GET carrying its own token) of a ZIP holding two GBK CSV
// files, `<pid>0156_<yyyyMMdd>_业务明细.csv` and `…_业务明细(汇总).csv`. The detail file: `#` comment
// lines, the header on line 5, one row per trade or refund (refunds with negative amounts and their
// out_request_no), an end-of-list `#` line and more `#` lines. Ids are padded with a tab, as Alipay's.
import * as iconv from 'iconv-lite';
import type { ServerResponse } from 'node:http';
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import type { FaultMode } from '../faults';
import { send } from '../http';
import { fenToYuan } from '../money';
import { failure, success, type AlipayNode } from '../alipay/reply';
import { beijingDay, ledgerRows, type LedgerRow } from './ledger';
import { zipEntries } from './zip';

const HEADER =
  '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,' +
  '商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,' +
  '卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注';
const DAY = /^\d{4}-\d{2}-\d{2}$/;

const signed = (fen: number, negative: boolean) => `${negative && fen ? '-' : ''}${fenToYuan(fen)}`;
/** 0.6% service fee rounded to the fen, charged on payments and given back on refunds. */
const serviceFee = (fen: number, refund: boolean) => signed(Math.round((fen * 6) / 1000), !refund);
const cn = (day: string) => `${day.slice(0, 4)}年${day.slice(5, 7)}月${day.slice(8, 10)}日`;
/** Commas would shift the columns of a file Alipay never quotes in: written as full-width. */
const plain = (text: string) => text.replace(/,/g, '，').replace(/[\r\n]/g, ' ');

function row(r: LedgerRow): string {
  const refund = r.kind === 'refund';
  const amount = signed(r.amountFen, refund);
  return [
    `${r.providerTradeNo}\t`,
    `${r.outTradeNo}\t`,
    refund ? '退款' : '交易',
    plain(r.subject),
    beijingDateTime(r.createdAt),
    beijingDateTime(r.at),
    '',
    '',
    '',
    '',
    r.buyer,
    amount,
    amount,
    '0.00',
    '0.00',
    '0.00',
    '0.00',
    '0.00',
    '',
    '0.00',
    '0.00',
    refund ? `${r.outRefundNo}\t` : '',
    serviceFee(r.amountFen, refund),
    '0.00',
    '',
  ].join(',');
}

export function alipayBillZip(ctx: SandboxContext, day: string, rows: LedgerRow[], now: Date): Buffer {
  const pid = `${ctx.keys.alipay.sellerId}0156`;
  const next = beijingDay(new Date(Date.parse(`${day}T00:00:00+08:00`) + 86_400_000));
  const payments = rows.filter((r) => r.kind === 'payment');
  const refunds = rows.filter((r) => r.kind === 'refund');
  const sum = (list: LedgerRow[]) => list.reduce((s, r) => s + r.amountFen, 0);
  const detail = [
    '#支付宝业务明细查询',
    `#账号：[${pid}]`,
    `#起始日期：[${cn(day)} 00:00:00]   终止日期：[${cn(next)} 00:00:00]`,
    '#-----------------------------------------业务明细列表----------------------------------------',
    HEADER,
    ...rows.map(row),
    '#-----------------------------------------业务明细列表结束------------------------------------',
    `#交易合计：${payments.length}笔，商家实收共${fenToYuan(sum(payments))}元，商家优惠共0.00元`,
    `#退款合计：${refunds.length}笔，商家实收退款共${signed(sum(refunds), true)}元，商家优惠退款共0.00元`,
    `#导出时间：[${beijingDateTime(now)}]`,
  ];
  const totals = [
    '#支付宝业务汇总查询',
    `#账号：[${pid}]`,
    `#起始日期：[${cn(day)} 00:00:00]   终止日期：[${cn(next)} 00:00:00]`,
    '门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）',
    `合计,,${payments.length},${refunds.length},${signed(Math.abs(sum(payments) - sum(refunds)), sum(payments) < sum(refunds))},` +
      `${signed(Math.abs(sum(payments) - sum(refunds)), sum(payments) < sum(refunds))}`,
    `#导出时间：[${beijingDateTime(now)}]`,
  ];
  const gbk = (lines: string[]) => iconv.encode(`${lines.join('\r\n')}\r\n`, 'gbk');
  const stem = `${pid}_${day.replace(/-/g, '')}`;
  return zipEntries(
    [
      { name: iconv.encode(`${stem}_业务明细.csv`, 'gbk'), data: gbk(detail) },
      { name: iconv.encode(`${stem}_业务明细(汇总).csv`, 'gbk'), data: gbk(totals) },
    ],
    new Date(now.getTime() + 8 * 3600_000),
  );
}

/**
 * alipay.data.dataservice.bill.downloadurl.query. A day without trades is served as a ZIP
 * whose detail file has no rows (whether Alipay does so or answers isp.bill_not_exist is
 * unconfirmed; memberpay accepts both). `bill-not-ready` answers isp.bill_not_exist.
 */
export function applyAlipayBill(
  ctx: SandboxContext,
  biz: Record<string, unknown>,
  baseUrl: string,
  now: Date,
  fault?: FaultMode,
): AlipayNode {
  const day = biz.bill_date;
  if (biz.bill_type !== 'trade') return failure('40004', 'isv.invalid_arguments', '账单类型不支持');
  if (typeof day !== 'string' || !DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || day > beijingDay(now)) {
    return failure('40004', 'isv.invalid_arguments', '账单日期不合法');
  }
  if (fault === 'bill-not-ready') return failure('40004', 'isp.bill_not_exist', '账单不存在');
  const token = ctx.billDownloads.put(alipayBillZip(ctx, day, ledgerRows(ctx, 'alipay', day), now), now);
  return success({
    bill_download_url: `${baseUrl}/downloadBillFile.resource?bizType=trade&fileType=csv.zip&bizDates=${day.replace(/-/g, '')}&token=${token}`,
  });
}

/** GET of bill_download_url: the ZIP, or 404 once the token has expired (30 s). */
export function downloadAlipayBill(ctx: SandboxContext, res: ServerResponse, url: URL): void {
  const bytes = ctx.billDownloads.take(url.searchParams.get('token') ?? '', new Date());
  if (!bytes) return send(res, 404, 'the download link has expired', { 'Content-Type': 'text/plain; charset=utf-8' });
  send(res, 200, bytes, { 'Content-Type': 'application/zip' });
}
