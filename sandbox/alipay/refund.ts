// Alipay refunds (docs/refunds.md, Alipay): `alipay.trade.refund` is synchronous; each
// out_request_no refunds at most once (a repeat answers fund_change N), refund_fee is the trade's
// cumulative refunded amount, and a trade refunded in full becomes TRADE_CLOSED.
// `alipay.trade.fastpay.refund.query` returns refund data only for a refund that succeeded.
import { beijingDateTime } from '../clock';
import type { SandboxContext } from '../context';
import type { FaultMode } from '../faults';
import { fenToYuan, yuanToFen } from '../money';
import { settleAlipayExpiry, type AlipayOrder, type AlipayRefund, type Store } from '../store';
import { failure, success, type AlipayNode } from './reply';

const OUT_REQUEST_NO = /^[0-9A-Za-z_-]{1,64}$/;
const notExist = (): AlipayNode => failure('40004', 'ACQ.TRADE_NOT_EXIST', '交易不存在');

function findOrder(store: Store, biz: Record<string, unknown>): AlipayOrder | AlipayNode {
  const { trade_no: tradeNo, out_trade_no: outTradeNo } = biz;
  if (typeof tradeNo === 'string' && tradeNo !== '') return store.findAlipayByTradeNo(tradeNo) ?? notExist();
  if (typeof outTradeNo === 'string' && outTradeNo !== '') return store.alipay.get(outTradeNo) ?? notExist();
  return failure('40004', 'ACQ.INVALID_PARAMETER', 'out_trade_no 和 trade_no 不能同时为空');
}

const isNode = (v: object): v is AlipayNode => 'code' in v && 'msg' in v;
const refundedFen = (store: Store, outTradeNo: string) =>
  store
    .alipayRefundsOf(outTradeNo)
    .filter((r) => r.status === 'success')
    .reduce((s, r) => s + r.refundFen, 0);

function answer(store: Store, order: AlipayOrder, fundChange: 'Y' | 'N', refund: AlipayRefund): AlipayNode {
  return success({
    trade_no: order.trade!.tradeNo,
    out_trade_no: order.outTradeNo,
    buyer_logon_id: order.trade!.buyerLogonId,
    buyer_user_id: order.trade!.buyerId,
    fund_change: fundChange,
    refund_fee: fenToYuan(refundedFen(store, order.outTradeNo)),
    gmt_refund_pay: beijingDateTime(refund.gmtRefundPay ?? new Date()),
    send_back_fee: fenToYuan(refund.refundFen),
  });
}

/** Completes a refund: the money moves, and a trade refunded in full closes (docs/alipay.md#query). */
export function completeAlipayRefund(store: Store, order: AlipayOrder, refund: AlipayRefund, now: Date): void {
  refund.status = 'success';
  refund.gmtRefundPay = now;
  if (refundedFen(store, order.outTradeNo) >= order.totalFen && order.trade) {
    order.trade.status = 'TRADE_CLOSED';
    order.trade.gmtClose = now;
  }
}

export function refundTrade(ctx: SandboxContext, biz: Record<string, unknown>, now: Date, fault?: FaultMode): AlipayNode {
  const { store } = ctx;
  const order = findOrder(store, biz);
  if (isNode(order)) return order;
  const trade = settleAlipayExpiry(order, now).trade;
  if (!trade) return notExist();
  const amountText = biz.refund_amount;
  const fen = typeof amountText === 'string' || typeof amountText === 'number' ? yuanToFen(String(amountText)) : null;
  if (fen === null || fen < 1) return failure('40004', 'ACQ.INVALID_PARAMETER', 'refund_amount 格式错误');
  const requestNo = biz.out_request_no === undefined ? order.outTradeNo : biz.out_request_no;
  if (typeof requestNo !== 'string' || !OUT_REQUEST_NO.test(requestNo))
    return failure('40004', 'ACQ.INVALID_PARAMETER', 'out_request_no 格式错误');
  if (biz.out_request_no === undefined && fen !== order.totalFen) {
    return failure('40004', 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额与交易金额不一致');
  }
  const key = `${order.outTradeNo} ${requestNo}`;
  const existing = store.alipayRefunds.get(key);
  if (existing) {
    if (existing.refundFen !== fen) return failure('40004', 'ACQ.DISCORDANT_REPEAT_REQUEST', '请求参数与原请求不一致');
    // The same out_request_no moves money once (docs/refunds.md): a repeat reports it with fund_change N.
    if (existing.status === 'success') return answer(store, order, 'N', existing);
    return failure('40004', 'ACQ.SYSTEM_ERROR', '系统错误'); // still pending (refund-later)
  }
  if (trade.status === 'TRADE_FINISHED' || fault === 'refund-window-over') return failure('40004', 'ACQ.TRADE_HAS_FINISHED', '交易已完结');
  if (trade.status !== 'TRADE_SUCCESS') return failure('40004', 'ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
  if (fault === 'balance-not-enough') return failure('40004', 'ACQ.SELLER_BALANCE_NOT_ENOUGH', '卖家余额不足');
  const pendingFen = store
    .alipayRefundsOf(order.outTradeNo)
    .filter((r) => r.status === 'pending')
    .reduce((s, r) => s + r.refundFen, 0);
  if (refundedFen(store, order.outTradeNo) + pendingFen + fen > order.totalFen) {
    return failure('40004', 'ACQ.REASON_TRADE_REFUND_FEE_ERR', '退款金额超限');
  }
  const refund: AlipayRefund = {
    outTradeNo: order.outTradeNo,
    outRequestNo: requestNo,
    refundFen: fen,
    reason: typeof biz.refund_reason === 'string' ? biz.refund_reason : undefined,
    status: 'pending',
  };
  store.alipayRefunds.set(key, refund);
  if (fault === 'refund-later') {
    // Accepted but unfinished: the answer is the documented "retry with the same out_request_no,
    // then query" error, and the refund completes on POST /sandbox/refunds/settle.
    ctx.log(`[alipay] refund ${requestNo} of ${order.outTradeNo} left pending`);
    return failure('40004', 'ACQ.SYSTEM_ERROR', '系统错误');
  }
  completeAlipayRefund(store, order, refund, now);
  ctx.log(`[alipay] refund ${requestNo} of ${order.outTradeNo}: ${fen} fen`);
  return answer(store, order, 'Y', refund);
}

export function queryRefund(ctx: SandboxContext, biz: Record<string, unknown>): AlipayNode {
  const order = findOrder(ctx.store, biz);
  if (isNode(order)) return order;
  if (!order.trade) return notExist();
  const requestNo = biz.out_request_no;
  if (typeof requestNo !== 'string' || requestNo === '') return failure('40004', 'ACQ.INVALID_PARAMETER', 'out_request_no 不能为空');
  const refund = ctx.store.alipayRefunds.get(`${order.outTradeNo} ${requestNo}`);
  const base = { trade_no: order.trade.tradeNo, out_trade_no: order.outTradeNo, out_request_no: requestNo };
  // The refund query's 10000 only says the query ran (docs/refunds.md); refund data comes back only for a refund that succeeded.
  if (!refund || refund.status !== 'success') return success(base);
  return success({
    ...base,
    total_amount: fenToYuan(order.totalFen),
    refund_amount: fenToYuan(refund.refundFen),
    refund_status: 'REFUND_SUCCESS',
    ...(refund.reason ? { refund_reason: refund.reason } : {}),
    gmt_refund_pay: beijingDateTime(refund.gmtRefundPay!),
  });
}
