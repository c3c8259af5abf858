import { Formatter, Hash } from 'wechatpay-axios-plugin';
import { billFee, billYuanToFen, type BillFee } from '../../../common/money';
import { BillRejected, type BillRow, type ProviderBill } from '../../provider-bill';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The columns we read, by header name: older merchants get other column sets (docs/reconciliation.md). */
const COL = {
  tradeNo: '微信订单号',
  paymentNo: '商户订单号',
  state: '交易状态',
  settlementAmount: '应结订单金额',
  orderAmount: '订单金额',
  refundNo: '商户退款单号',
  refundAmount: '退款金额',
  requestedRefund: '申请退款金额',
  refundState: '退款状态',
  fee: '手续费',
} as const;

/**
 * Checks and reads WeChat Pay's trade bill (bill_type ALL), already un-gzipped. The SHA1 that the
 * signed apply answer gave is checked over these exact bytes before any of them is read: the
 * download itself carries no signature. Parsing is the plugin's Formatter.castCsvBill, which
 * drops the first three bytes (the BOM) unconditionally, so the BOM is checked first.
 */
export function parseWechatBill(bytes: Buffer, expectedSha1: string, date: string): ProviderBill {
  const sha1 = Hash.sha1(bytes);
  if (sha1 !== expectedSha1.trim().toLowerCase()) {
    throw new BillRejected('HASH_MISMATCH', `the WeChat Pay bill of ${date} does not match its SHA1: refused`);
  }
  if (!bytes.subarray(0, 3).equals(BOM)) throw new BillRejected('MALFORMED_BILL', 'the WeChat Pay bill does not start with a UTF-8 BOM');
  let parsed: { rows: Record<string, string>[]; summary: Record<string, string> };
  try {
    parsed = Formatter.castCsvBill(bytes) as typeof parsed;
  } catch {
    throw new BillRejected('MALFORMED_BILL', 'the WeChat Pay bill is not in the published layout');
  }
  // castCsvBill takes the last lines as the summary: a file cut short would shift them.
  if (!('总交易单数' in parsed.summary)) throw new BillRejected('MALFORMED_BILL', 'the WeChat Pay bill has no summary row');
  return { provider: 'wechat', date, sha1, rows: parsed.rows.map(toRow) };
}

function toRow(raw: Record<string, string>, index: number): BillRow {
  const get = (name: string): string | undefined => (name in raw ? raw[name].trim() : undefined);
  const need = (name: string): string => {
    const value = get(name);
    if (!value) throw new BillRejected('MALFORMED_BILL', `WeChat Pay bill row ${index + 1} has no ${name}`);
    return value;
  };
  const amount = (name: string): number => {
    const fen = billYuanToFen(need(name));
    if (fen === null) throw new BillRejected('MALFORMED_BILL', `WeChat Pay bill row ${index + 1}: ${name} is not an amount`);
    return Math.abs(fen);
  };
  // 手续费 is written with five decimals of yuan, positive when charged and negative when given back
  // with a refund: kept exact (BillFee), never rounded to the fen.
  const feeText = get(COL.fee);
  let fee: BillFee | null = null;
  if (feeText) {
    fee = billFee(feeText);
    if (!fee) throw new BillRejected('MALFORMED_BILL', `WeChat Pay bill row ${index + 1}: ${COL.fee} is not an amount`);
  }
  const state = need(COL.state);
  const tradeNo = get(COL.tradeNo) || null;
  if (state === 'REFUND') {
    return {
      kind: 'refund',
      paymentNo: need(COL.paymentNo),
      refundNo: need(COL.refundNo),
      providerTradeNo: tradeNo,
      amountFen: amount(get(COL.requestedRefund) !== undefined ? COL.requestedRefund : COL.refundAmount),
      status: get(COL.refundState) || 'UNKNOWN',
      fee,
    };
  }
  return {
    kind: 'payment',
    paymentNo: need(COL.paymentNo),
    refundNo: null,
    providerTradeNo: tradeNo,
    amountFen: amount(get(COL.orderAmount) !== undefined ? COL.orderAmount : COL.settlementAmount),
    status: state,
    fee,
  };
}
