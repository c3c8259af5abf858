// In-memory state of both emulated providers. One merchant per provider, so trades are keyed by
// out_trade_no alone. QR tokens map back to their trade for /sandbox/pay and the pay page.
import type { DeliveryRecord } from './notifier';
import type { Provider } from './faults';

export type WechatTradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';

/** How the trade was opened: Native (QR), APP, JSAPI or H5 (`MWEB`), as trade_type reports it. */
export type WechatTradeType = 'NATIVE' | 'APP' | 'JSAPI' | 'MWEB';

export interface WechatTrade {
  outTradeNo: string;
  tradeType?: WechatTradeType;
  /** APP and JSAPI: the prepay_id the client pays with (valid 2 h); H5: the one inside h5_url. */
  prepayId?: string;
  prepayIssuedAt?: Date;
  /** H5: the page the phone browser opens (valid about 5 minutes). */
  h5Url?: string;
  appid: string;
  mchid: string;
  description: string;
  attach?: string;
  notifyUrl: string;
  totalFen: number;
  /** The request fields that must match on resubmission (docs/wechat-pay.md#native-orders). */
  fingerprint: string;
  createdAt: Date;
  timeExpire: Date;
  codeUrl: string;
  codeUrlIssuedAt: Date;
  state: WechatTradeState;
  closedBy?: 'close' | 'expiry';
  transactionId?: string;
  successTime?: Date;
  payerOpenid?: string;
  /** A refund of it succeeded: queries read trade_state REFUND (docs/wechat-pay.md#querying). */
  refunded?: boolean;
  notifications: DeliveryRecord[];
}

/** WeChat Pay refund states (docs/refunds.md): PROCESSING, then SUCCESS / CLOSED, or ABNORMAL (not final). */
export type WechatRefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL';

export interface WechatRefund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  refundFen: number;
  reason?: string;
  notifyUrl?: string;
  /** The request fields that must match when the same out_refund_no is sent again. */
  fingerprint: string;
  createdAt: Date;
  status: WechatRefundStatus;
  successTime?: Date;
  notifications: DeliveryRecord[];
}

/** One Alipay refund request (out_request_no) of a trade (docs/refunds.md). */
export interface AlipayRefund {
  outTradeNo: string;
  outRequestNo: string;
  refundFen: number;
  reason?: string;
  /** `pending`: accepted but not done yet (the refund-later fault); only `success` moved money. */
  status: 'pending' | 'success';
  gmtRefundPay?: Date;
}

export type AlipayTradeStatus = 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_FINISHED' | 'TRADE_CLOSED';

/** When an Alipay trade stops being payable: counted from the scan, or absolute (docs/alipay.md#precreate). */
export type AlipayExpiry =
  { kind: 'relative'; ms: number; text: string } | { kind: 'midnight'; text: string } | { kind: 'absolute'; at: Date; text: string };

/** Exists from the scan on; before that only the precreate does (docs/alipay.md#the-trade-exists-from-the-scan). */
export interface AlipayTrade {
  tradeNo: string;
  status: AlipayTradeStatus;
  gmtCreate: Date;
  expiresAt: Date;
  buyerId: string;
  buyerLogonId: string;
  gmtPayment?: Date;
  gmtClose?: Date;
}

export interface AlipayOrder {
  outTradeNo: string;
  appId: string;
  totalFen: number;
  subject: string;
  body?: string;
  notifyUrl?: string;
  expiry: AlipayExpiry;
  /** From `qr_code_timeout_express`: the QR itself can no longer be scanned after this. */
  qrExpiresAt?: Date;
  precreatedAt: Date;
  qrCode: string;
  /** APP, WAP, page: the method the client opened it with (no QR code: `qrCode` is a sandbox token). */
  method?: string;
  /** WAP, page: where the browser goes back after paying, signed (docs/alipay.md#return-url). */
  returnUrl?: string;
  trade?: AlipayTrade;
  notifications: DeliveryRecord[];
}

export interface QrRef {
  provider: Provider;
  outTradeNo: string;
  issuedAt: Date;
}

export class Store {
  readonly wechat = new Map<string, WechatTrade>();
  readonly alipay = new Map<string, AlipayOrder>();
  /** By out_refund_no (unique per merchant). */
  readonly wechatRefunds = new Map<string, WechatRefund>();
  /** By `${out_trade_no} ${out_request_no}` (out_request_no is unique per trade). */
  readonly alipayRefunds = new Map<string, AlipayRefund>();
  private readonly qr = new Map<string, QrRef>();
  /** prepay_id -> out_trade_no (APP, JSAPI, H5). */
  readonly prepay = new Map<string, string>();
  /** openid -> the app id it was issued under (JSAPI checks the pair). */
  readonly openids = new Map<string, string>();

  rememberQr(code: string, ref: QrRef): void {
    this.qr.set(code, ref);
  }

  findQr(code: string): QrRef | undefined {
    return this.qr.get(code.trim());
  }

  findAlipayByTradeNo(tradeNo: string): AlipayOrder | undefined {
    return [...this.alipay.values()].find((o) => o.trade?.tradeNo === tradeNo);
  }

  wechatRefundsOf(outTradeNo: string): WechatRefund[] {
    return [...this.wechatRefunds.values()].filter((r) => r.outTradeNo === outTradeNo);
  }

  alipayRefundsOf(outTradeNo: string): AlipayRefund[] {
    return [...this.alipayRefunds.values()].filter((r) => r.outTradeNo === outTradeNo);
  }

  findWechatByTransactionId(transactionId: string): WechatTrade | undefined {
    return [...this.wechat.values()].find((t) => t.transactionId === transactionId);
  }
}

/** Applies expiry lazily: an unpaid WeChat trade past `time_expire` is CLOSED (docs/wechat-pay.md#native-orders). */
export function settleWechatExpiry(trade: WechatTrade, now: Date): WechatTrade {
  if (trade.state === 'NOTPAY' && now.getTime() > trade.timeExpire.getTime()) {
    trade.state = 'CLOSED';
    trade.closedBy = 'expiry';
  }
  return trade;
}

/** Applies expiry lazily: a scanned, unpaid Alipay trade past its expiry is TRADE_CLOSED (docs/alipay.md#query). */
export function settleAlipayExpiry(order: AlipayOrder, now: Date): AlipayOrder {
  const trade = order.trade;
  if (trade && trade.status === 'WAIT_BUYER_PAY' && now.getTime() > trade.expiresAt.getTime()) {
    trade.status = 'TRADE_CLOSED';
    trade.gmtClose = trade.expiresAt;
  }
  return order;
}
