// The sandbox's own view of a trade, for `GET /sandbox/trades/:out_trade_no` and the pay page.
import { fenToYuan } from '../money';
import { settleAlipayExpiry, settleWechatExpiry, type AlipayOrder, type WechatTrade } from '../store';

export interface TradeView {
  provider: 'wechat' | 'alipay';
  out_trade_no: string;
  state: string;
  paid: boolean;
  closed: boolean;
  title: string;
  amount_fen: number;
  amount_yuan: string;
  notify_url: string | null;
  qr: string;
  transaction_id: string | null;
  created_at: string;
  expires_at: string | null;
  notifications: unknown[];
  [extra: string]: unknown;
}

export function wechatView(trade: WechatTrade, now: Date): TradeView {
  settleWechatExpiry(trade, now);
  return {
    provider: 'wechat',
    out_trade_no: trade.outTradeNo,
    state: trade.state,
    paid: trade.state === 'SUCCESS',
    closed: trade.state === 'CLOSED',
    closed_by: trade.closedBy ?? null,
    trade_type: trade.tradeType ?? 'NATIVE',
    title: trade.description,
    amount_fen: trade.totalFen,
    amount_yuan: fenToYuan(trade.totalFen),
    notify_url: trade.notifyUrl,
    qr: trade.codeUrl,
    transaction_id: trade.transactionId ?? null,
    created_at: trade.createdAt.toISOString(),
    expires_at: trade.timeExpire.toISOString(),
    notifications: trade.notifications,
  };
}

/** Before the scan there is no trade at Alipay: state `NOT_SCANNED` (docs/alipay.md#the-trade-exists-from-the-scan). */
export function alipayView(order: AlipayOrder, now: Date): TradeView {
  const trade = settleAlipayExpiry(order, now).trade;
  const status = trade?.status ?? 'NOT_SCANNED';
  return {
    provider: 'alipay',
    out_trade_no: order.outTradeNo,
    state: status,
    paid: status === 'TRADE_SUCCESS' || status === 'TRADE_FINISHED',
    closed: status === 'TRADE_CLOSED',
    title: order.subject,
    amount_fen: order.totalFen,
    amount_yuan: fenToYuan(order.totalFen),
    notify_url: order.notifyUrl ?? null,
    qr: order.qrCode,
    transaction_id: trade?.tradeNo ?? null,
    created_at: (trade?.gmtCreate ?? order.precreatedAt).toISOString(),
    expires_at: trade ? trade.expiresAt.toISOString() : order.expiry.kind === 'absolute' ? order.expiry.at.toISOString() : null,
    expiry: order.expiry.text,
    method: order.method ?? 'alipay.trade.precreate',
    notifications: order.notifications,
  };
}
