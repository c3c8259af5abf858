// WeChat Pay's trade bill (docs/reconciliation.md, WeChat Pay): GET /v3/bill/tradebill applies for day D's bill and
// answers, signed, a download_url with the SHA1 of the uncompressed file; GET of that URL (signed
// request, unsigned answer) returns the file, gzipped when tar_type=GZIP. The file: UTF-8 with a
// BOM, CRLF lines ending with one, a plain header row, detail rows whose every field starts with a
// backtick, then a summary header and a backticked summary row; amounts in yuan.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import type { FaultMode } from '../faults';
import { fenToYuan } from '../money';
import { errorBody, type WechatAnswer } from '../wechat/reply';
import { beijingDay, ledgerRows, type LedgerRow } from './ledger';

const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,' +
  '订单金额,申请退款金额,费率备注';
const SUMMARY = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A 0.6% fee in units of 0.00001 yuan (one fen is 1000 of them), written with five decimals. */
function fee(fen: number, sign: 1 | -1): string {
  const units = fen * 6;
  const text = `${Math.floor(units / 100000)}.${String(units % 100000).padStart(5, '0')}`;
  return sign < 0 && units ? `-${text}` : text;
}

const line = (cells: string[]) => cells.map((c) => `\`${c}`).join(',');

function detail(ctx: SandboxContext, r: LedgerRow): string {
  const w = ctx.keys.wechat;
  const trade = ctx.store.wechat.get(r.outTradeNo);
  // An APP, JSAPI or H5 payment is billed under its own app id and trade type (docs/channels.md).
  const common = [
    beijingDateTime(r.at),
    trade?.appid ?? w.appId,
    w.mchId,
    '0',
    '',
    r.providerTradeNo,
    r.outTradeNo,
    r.buyer,
    trade?.tradeType ?? 'NATIVE',
  ];
  if (r.kind === 'payment') {
    const yuan = fenToYuan(r.amountFen);
    return line([
      ...common,
      'SUCCESS',
      'OTHERS',
      'CNY',
      yuan,
      '0.00',
      '0',
      '0',
      '0.00',
      '0.00',
      '',
      '',
      r.subject,
      trade?.attach ?? '',
      fee(r.amountFen, 1),
      '0.60%',
      yuan,
      '0.00',
      '',
    ]);
  }
  const yuan = fenToYuan(r.amountFen);
  return line([
    ...common,
    'REFUND',
    'OTHERS',
    'CNY',
    '0.00',
    '0.00',
    r.refundId ?? '',
    r.outRefundNo ?? '',
    yuan,
    '0.00',
    'ORIGINAL',
    r.refundStatus ?? 'PROCESSING',
    r.subject,
    trade?.attach ?? '',
    fee(r.amountFen, -1),
    '0.60%',
    '0.00',
    yuan,
    '',
  ]);
}

export function wechatBillFile(ctx: SandboxContext, rows: LedgerRow[]): Buffer {
  const paid = rows.filter((r) => r.kind === 'payment').reduce((s, r) => s + r.amountFen, 0);
  const refunded = rows.filter((r) => r.kind === 'refund').reduce((s, r) => s + r.amountFen, 0);
  const net = paid - refunded;
  const feeText = fee(Math.abs(net), net < 0 ? -1 : 1);
  const lines = [
    HEADER,
    ...rows.map((r) => detail(ctx, r)),
    SUMMARY,
    line([String(rows.length), fenToYuan(paid), fenToYuan(refunded), '0.00', feeText, fenToYuan(paid), fenToYuan(refunded)]),
  ];
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8')]);
}

/** GET /v3/bill/tradebill. `bill-not-ready` answers STATEMENT_CREATING; `bill-wrong-hash` spoils hash_value. */
export function applyWechatBill(ctx: SandboxContext, url: URL, baseUrl: string, now: Date, fault?: FaultMode): WechatAnswer {
  const day = url.searchParams.get('bill_date') ?? '';
  const billType = url.searchParams.get('bill_type') ?? 'ALL';
  const tarType = url.searchParams.get('tar_type');
  if (
    !DAY.test(day) ||
    Number.isNaN(Date.parse(`${day}T00:00:00Z`)) ||
    !['ALL', 'SUCCESS', 'REFUND'].includes(billType) ||
    (tarType !== null && tarType !== 'GZIP')
  ) {
    return { status: 400, body: errorBody('PARAM_ERROR', '参数错误') };
  }
  // Unlike WeChat Pay, today's bill is served (sandbox/README.md); a day still to come is refused.
  if (day > beijingDay(now)) return { status: 400, body: errorBody('INVALID_REQUEST', '账单日期不合法') };
  if (fault === 'bill-not-ready') return { status: 400, body: errorBody('STATEMENT_CREATING', '账单生成中') };
  const rows = ledgerRows(ctx, 'wechat', day).filter((r) => billType === 'ALL' || (billType === 'SUCCESS') === (r.kind === 'payment'));
  if (!rows.length) return { status: 400, body: errorBody('NO_STATEMENT_EXIST', '账单文件不存在') };
  const file = wechatBillFile(ctx, rows);
  const hashed = fault === 'bill-wrong-hash' ? Buffer.concat([file, Buffer.from('tampered')]) : file;
  const token = ctx.billDownloads.put(tarType === 'GZIP' ? gzipSync(file) : file, now);
  return {
    status: 200,
    body: {
      hash_type: 'SHA1',
      hash_value: createHash('sha1').update(hashed).digest('hex'),
      download_url: `${baseUrl}/v3/billdownload/file?token=${token}`,
    },
  };
}

/** The download: the file's bytes, with none of the Wechatpay-* signature headers. */
export function downloadWechatBill(ctx: SandboxContext, url: URL, now: Date): { status: number; body: Buffer | string } {
  const bytes = ctx.billDownloads.take(url.searchParams.get('token') ?? '', now);
  if (!bytes) return { status: 400, body: JSON.stringify(errorBody('INVALID_REQUEST', '下载链接已失效')) };
  return { status: 200, body: bytes };
}
