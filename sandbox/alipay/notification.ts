// Builds Alipay asynchronous notifications (docs/alipay.md#notifications): a form POST whose fields
// are signed (RSA2, Alipay key) over the sorted `k=v` of every field but `sign` and `sign_type`.
// Resends carry the same notify_id; only a body of exactly `success` stops them.
import type { KeyObject } from 'node:crypto';
import { beijingDateTime } from '../clock';
import { randomHex } from '../ids';
import type { SandboxKeys } from '../keys';
import { fenToYuan } from '../money';
import type { Outgoing, PreparedNotification } from '../notifier';
import { corruptSignature, signBase64 } from '../rsa';
import type { AlipayOrder, AlipayTradeStatus } from '../store';

const M = 60_000;
const H = 60 * M;
/** docs/alipay.md#acknowledgement: 8 sends within about 25 h, i.e. 7 waits after the first failure. */
export const ALIPAY_RETRY_INTERVALS_MS = [4 * M, 10 * M, 10 * M, 1 * H, 2 * H, 6 * H, 15 * H] as const;

export type AlipayTamper = 'signature' | 'wrong-key';
export const ALIPAY_TAMPERS: readonly AlipayTamper[] = ['signature', 'wrong-key'];

export interface AlipayNotifyOptions {
  tamper?: AlipayTamper;
  /** Merged into the form fields before signing; `null` removes a field. */
  override?: Record<string, unknown>;
  /** Field value only (the trade's state is the caller's business). */
  tradeStatus?: AlipayTradeStatus;
  stranger?: KeyObject;
}

function fieldsOf(keys: SandboxKeys['alipay'], order: AlipayOrder, tradeStatus?: AlipayTradeStatus): Record<string, string> {
  const trade = order.trade;
  if (!trade) throw new Error(`no trade for ${order.outTradeNo}`);
  const status = tradeStatus ?? trade.status;
  const paid = status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED';
  const total = fenToYuan(order.totalFen);
  const fields: Record<string, string> = {
    notify_time: beijingDateTime(new Date()),
    notify_type: 'trade_status_sync',
    notify_id: randomHex(18),
    app_id: keys.appId,
    auth_app_id: keys.appId,
    charset: 'utf-8',
    version: '1.0',
    sign_type: 'RSA2',
    trade_no: trade.tradeNo,
    out_trade_no: order.outTradeNo,
    trade_status: status,
    total_amount: total,
    receipt_amount: paid ? total : '0.00',
    invoice_amount: paid ? total : '0.00',
    buyer_pay_amount: paid ? total : '0.00',
    point_amount: '0.00',
    buyer_id: trade.buyerId,
    buyer_logon_id: trade.buyerLogonId,
    seller_id: keys.sellerId,
    subject: order.subject,
    gmt_create: beijingDateTime(trade.gmtCreate),
  };
  if (order.body) fields.body = order.body;
  if (paid) {
    fields.gmt_payment = beijingDateTime(trade.gmtPayment ?? new Date());
    fields.fund_bill_list = JSON.stringify([{ amount: total, fundChannel: 'ALIPAYACCOUNT' }]);
  }
  if (status === 'TRADE_CLOSED') fields.gmt_close = beijingDateTime(trade.gmtClose ?? new Date());
  return fields;
}

function applyOverride(fields: Record<string, string>, override: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(override)) {
    if (v === null) delete fields[k];
    else fields[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
}

/** docs/alipay.md#notification-signatures: sorted fields without `sign` and `sign_type`, raw values, empty ones left out. */
export function notificationSignedContent(fields: Record<string, string>): string {
  return Object.keys(fields)
    .filter((k) => k !== 'sign' && k !== 'sign_type' && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

export function prepareAlipayNotification(
  keys: SandboxKeys['alipay'],
  order: AlipayOrder,
  opts: AlipayNotifyOptions,
): PreparedNotification {
  const url = order.notifyUrl;
  if (!url) throw new Error(`no notify_url for ${order.outTradeNo}`);
  const fields = fieldsOf(keys, order, opts.tradeStatus);
  applyOverride(fields, opts.override ?? {});
  const signer = opts.tamper === 'wrong-key' ? opts.stranger : keys.alipaySigner;
  if (!signer) throw new Error('wrong-key tamper needs a stranger key');
  let sign = signBase64(signer, notificationSignedContent(fields));
  if (opts.tamper === 'signature') sign = corruptSignature(sign);
  const body = new URLSearchParams({ ...fields, sign }).toString();
  const outgoing: Outgoing = {
    url,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8', 'User-Agent': 'Mozilla/4.0 (sandbox)' },
    body,
  };
  return { notificationId: fields.notify_id ?? 'none', url, build: () => outgoing };
}

/** docs/alipay.md#acknowledgement: acknowledged only by a body of exactly `success` (7 characters, nothing around it). */
export function alipayAccepts(_status: number, body: string): boolean {
  return body === 'success';
}
