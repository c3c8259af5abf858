import { unzipSync } from 'fflate';
import * as iconv from 'iconv-lite';
import { createHash } from 'node:crypto';
import { billFee, billYuanToFen, type BillFee } from '../../../common/money';
import { BillRejected, type BillRow, type ProviderBill } from '../../provider-bill';

/** Far above a real day's detail file; a guard against a ZIP that inflates without end. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** The columns we read, by header name (older 22-column exports exist; docs/reconciliation.md). */
const COL = {
  tradeNo: '支付宝交易号',
  paymentNo: '商户订单号',
  type: '业务类型',
  amount: '订单金额（元）',
  refundNo: '退款批次号/请求号',
  fee: '服务费（元）',
} as const;

/**
 * Reads Alipay's trade bill: a ZIP (read with fflate: zero dependencies, synchronous on a buffer
 * already in memory, and it tells each entry's inflated size before inflating it) of CSV files in
 * GBK, which Node cannot decode by itself (iconv-lite; TextDecoder's GBK depends on the ICU
 * build). The detail file is `…_业务明细.csv`; `…_业务明细(汇总).csv` holds totals we do not need.
 * Alipay signs the apply answer but neither the URL's content nor a hash of it: the SHA1 kept
 * is ours, to say which file a run compared.
 */
export function parseAlipayBill(zip: Buffer, date: string): ProviderBill {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip, {
      filter: (f) => {
        if (f.originalSize > MAX_FILE_BYTES) throw new BillRejected('MALFORMED_BILL', 'an Alipay bill file is implausibly large');
        return /\.csv$/i.test(f.name);
      },
    });
  } catch (e) {
    if (e instanceof BillRejected) throw e;
    throw new BillRejected('MALFORMED_BILL', 'the Alipay bill is not a readable ZIP');
  }
  // Alipay writes entry names in GBK without the ZIP UTF-8 flag, so fflate hands them over as
  // Latin-1 (one character per byte); a name flagged UTF-8 arrives decoded already.
  const named = Object.entries(files).map(([name, data]) => ({
    name: [...name].every((c) => c.charCodeAt(0) <= 0xff) ? iconv.decode(Buffer.from(name, 'latin1'), 'gbk') : name,
    data,
  }));
  const detail = named.find((f) => f.name.endsWith('业务明细.csv'));
  if (!detail) throw new BillRejected('MALFORMED_BILL', 'the Alipay bill ZIP holds no 业务明细 (detail) file');
  const text = iconv.decode(Buffer.from(detail.data), 'gbk');
  return { provider: 'alipay', date, sha1: createHash('sha1').update(zip).digest('hex'), rows: detailRows(text) };
}

/** Comment lines start with `#`; the first other line is the header, the rest are rows. */
function detailRows(text: string): BillRow[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (!lines.length) throw new BillRejected('MALFORMED_BILL', 'the Alipay detail file has no header');
  const header = splitCsv(lines[0]);
  for (const name of [COL.paymentNo, COL.type, COL.amount]) {
    if (!header.includes(name)) throw new BillRejected('MALFORMED_BILL', `the Alipay detail file has no ${name} column`);
  }
  return lines.slice(1).map((line, index) => {
    const cells = splitCsv(line);
    const get = (name: string) => cells[header.indexOf(name)] ?? '';
    const fen = billYuanToFen(get(COL.amount));
    if (fen === null) throw new BillRejected('MALFORMED_BILL', `Alipay bill row ${index + 1}: ${COL.amount} is not an amount`);
    const paymentNo = get(COL.paymentNo);
    if (!paymentNo) throw new BillRejected('MALFORMED_BILL', `Alipay bill row ${index + 1} has no ${COL.paymentNo}`);
    const type = get(COL.type);
    const refund = type === '退款';
    // A refund without a request number was a full refund asked for by out_trade_no (B.9).
    const refundNo = refund ? get(COL.refundNo) || paymentNo : null;
    const fee = serviceFee(get(COL.fee), index);
    return {
      kind: refund ? 'refund' : 'payment',
      paymentNo,
      refundNo,
      providerTradeNo: get(COL.tradeNo) || null,
      amountFen: Math.abs(fen),
      status: refund ? 'REFUND_SUCCESS' : type === '交易' ? 'TRADE_SUCCESS' : type,
      fee,
    } satisfies BillRow;
  });
}

/**
 * 服务费（元）, two decimals of yuan. The detail file writes every amount as it moves the merchant's
 * balance: a trade's fee as negative (taken), a refund's as positive (given back). BillRow.fee is
 * the other way round (positive: charged), the sign WeChat Pay's bill uses, so finance reads one
 * convention in both; the value itself is kept exact.
 */
function serviceFee(text: string, index: number): BillFee | null {
  if (!text) return null;
  const fee = billFee(text);
  if (!fee) throw new BillRejected('MALFORMED_BILL', `Alipay bill row ${index + 1}: ${COL.fee} is not an amount`);
  return { milliFen: fee.milliFen === 0 ? 0 : -fee.milliFen, decimals: fee.decimals };
}

/**
 * Alipay pads fields with spaces and tabs and, in the files seen, never quotes; quoted fields are
 * still honoured so that a product name with a comma cannot shift the columns. A CSV library
 * would do the same for one line at a time; this is the whole of what the format needs.
 */
function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',') {
      out.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  out.push(cell.trim());
  return out;
}
