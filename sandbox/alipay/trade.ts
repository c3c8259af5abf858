// The Alipay trade life cycle (docs/alipay.md#the-trade-exists-from-the-scan, #query, #close): created by the buyer's scan as
// WAIT_BUYER_PAY, then TRADE_SUCCESS (paid) or TRADE_CLOSED (close or expiry, counted from the
// scan). Query and close answer ACQ.TRADE_NOT_EXIST before the scan.
import { beijingDateTime, nextBeijingMidnight } from '../clock';
import { randomDigits } from '../ids';
import { fenToYuan } from '../money';
import { settleAlipayExpiry, type AlipayOrder, type AlipayTrade, type AlipayTradeStatus, type Store } from '../store';
import { failure, isNode, success, type AlipayNode } from './reply';

const notExist = (): AlipayNode => failure('40004', 'ACQ.TRADE_NOT_EXIST', '交易不存在');

/** `trade_no` wins over `out_trade_no` (docs/alipay.md#query). */
function find(store: Store, biz: Record<string, unknown>): AlipayOrder | AlipayNode {
  const { trade_no: tradeNo, out_trade_no: outTradeNo } = biz;
  if (typeof tradeNo === 'string' && tradeNo !== '') return store.findAlipayByTradeNo(tradeNo) ?? notExist();
  if (typeof outTradeNo === 'string' && outTradeNo !== '') return store.alipay.get(outTradeNo) ?? notExist();
  return failure('40004', 'ACQ.INVALID_PARAMETER', 'out_trade_no 和 trade_no 不能同时为空');
}

const isPaid = (status: AlipayTradeStatus) => status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED';

export function queryTrade(store: Store, biz: Record<string, unknown>, now: Date): AlipayNode {
  const order = find(store, biz);
  if (isNode(order)) return order;
  const trade = settleAlipayExpiry(order, now).trade;
  if (!trade) return notExist();
  const paid = isPaid(trade.status);
  const total = fenToYuan(order.totalFen);
  return success({
    trade_no: trade.tradeNo,
    out_trade_no: order.outTradeNo,
    buyer_logon_id: trade.buyerLogonId,
    buyer_user_id: trade.buyerId,
    trade_status: trade.status,
    total_amount: total,
    receipt_amount: paid ? total : '0.00',
    buyer_pay_amount: paid ? total : '0.00',
    invoice_amount: paid ? total : '0.00',
    point_amount: '0.00',
    ...(trade.gmtPayment ? { send_pay_date: beijingDateTime(trade.gmtPayment) } : {}),
  });
}

export function closeTrade(store: Store, biz: Record<string, unknown>, now: Date): AlipayNode {
  const order = find(store, biz);
  if (isNode(order)) return order;
  // Before the scan there is nothing to close, and the QR stays scannable (docs/alipay.md#the-trade-exists-from-the-scan).
  const trade = settleAlipayExpiry(order, now).trade;
  if (!trade) return notExist();
  if (trade.status !== 'WAIT_BUYER_PAY') return failure('40004', 'ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
  trade.status = 'TRADE_CLOSED';
  trade.gmtClose = now;
  return success({ trade_no: trade.tradeNo, out_trade_no: order.outTradeNo });
}

function expiryFrom(order: AlipayOrder, created: Date): Date {
  const e = order.expiry;
  if (e.kind === 'relative') return new Date(created.getTime() + e.ms);
  if (e.kind === 'midnight') return nextBeijingMidnight(created);
  return e.at;
}

/** The buyer scans: creates the trade, or returns the existing one. A string is a refusal. */
export function scanOrder(order: AlipayOrder, now: Date): AlipayTrade | string {
  if (order.trade) return settleAlipayExpiry(order, now).trade as AlipayTrade;
  if (order.qrExpiresAt && now.getTime() > order.qrExpiresAt.getTime()) {
    return `QR code of ${order.outTradeNo} expired at ${order.qrExpiresAt.toISOString()} (qr_code_timeout_express)`;
  }
  if (order.expiry.kind === 'absolute' && now.getTime() > order.expiry.at.getTime()) {
    return `trade ${order.outTradeNo} expired at ${order.expiry.text} (time_expire)`;
  }
  const ymd = beijingDateTime(now).slice(0, 10).replace(/-/g, '');
  order.trade = {
    tradeNo: `${ymd}22001${randomDigits(15)}`,
    status: 'WAIT_BUYER_PAY',
    gmtCreate: now,
    expiresAt: expiryFrom(order, now),
    buyerId: `2088${randomDigits(12)}`,
    buyerLogonId: 'buy***@sandbox.example',
  };
  return order.trade;
}

/** Moves a scanned trade from WAIT_BUYER_PAY to `status`. A string is a refusal. */
export function settleOrder(order: AlipayOrder, status: AlipayTradeStatus, now: Date): string | null {
  const trade = scanOrder(order, now);
  if (typeof trade === 'string') return trade;
  if (trade.status !== 'WAIT_BUYER_PAY') {
    const why =
      trade.status === 'TRADE_CLOSED'
        ? `closed${trade.gmtClose && trade.gmtClose.getTime() === trade.expiresAt.getTime() ? ' (expired)' : ''}`
        : 'already paid; send {"pay": false} to notify again';
    return `trade ${order.outTradeNo} is ${trade.status}: ${why}`;
  }
  trade.status = status;
  if (isPaid(status)) trade.gmtPayment = now;
  if (status === 'TRADE_CLOSED') trade.gmtClose = now;
  return null;
}
