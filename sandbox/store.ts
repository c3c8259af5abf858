// In-memory state of both emulated providers. One merchant per provider, so trades are keyed by
// out_trade_no alone. QR tokens map back to their trade for /sandbox/pay and the pay page.
import type { DeliveryRecord } from './notifier';
import type { Provider } from './faults';

export type WechatTradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED';

/** How the trade was opened: Native (QR), APP, JSAPI or H5 (`MWEB`), as trade_type reports it. */
export type WechatTradeType = 'NATIVE' | 'APP' | 'JSAPI' | 'MWEB' | 'PAP';

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
  /** A WeChat pay-and-sign order's code_url: it opens the signing page, not the pay page. */
  contract?: boolean;
}

/** What a pay-and-sign order asks to sign, kept until the member pays (docs/contracts.md#calls). */
export interface PapaySignRequest {
  planId: string;
  contractCode: string;
  requestSerial: string;
  displayAccount: string;
  contractNotifyUrl: string;
}

/**
 * A WeChat Pay v2 order of the contract product: the pay-and-sign order (`contractorder`) or a deduction
 * (`pappayapply`, trade_type PAP). States as `paporderquery` reports them.
 */
export type PapayTradeState = 'NOTPAY' | 'ACCEPT' | 'SUCCESS' | 'PAY_FAIL' | 'CLOSED';

export interface PapayOrder {
  kind: 'contractorder' | 'pappayapply';
  outTradeNo: string;
  appid: string;
  body: string;
  totalFen: number;
  notifyUrl: string;
  tradeType: 'NATIVE' | 'JSAPI' | 'APP' | 'MWEB' | 'PAP';
  /** The request's sign_type: callbacks about this order are signed the same way. */
  signType: 'MD5' | 'HMAC-SHA256';
  /** The request fields that must match when the same out_trade_no is sent again. */
  fingerprint: string;
  createdAt: Date;
  state: PapayTradeState;
  errCode?: string;
  errCodeDes?: string;
  contractId?: string;
  sign?: PapaySignRequest;
  codeUrl?: string;
  transactionId?: string;
  timeEnd?: Date;
  openid?: string;
  notifications: DeliveryRecord[];
}

export interface PapayNotice {
  fingerprint: string;
  at: Date;
}

/** A signed WeChat Pay contract (docs/contracts.md#callbacks). */
export interface PapayContract {
  contractId: string;
  contractCode: string;
  planId: string;
  openid: string;
  requestSerial: string;
  displayAccount: string;
  /** Where sign and unsign results go (the template's unsign URL is emulated by the same address). */
  notifyUrl: string;
  signType: 'MD5' | 'HMAC-SHA256';
  state: 'signed' | 'terminated';
  signedAt: Date;
  expiresAt: Date;
  terminatedAt?: Date;
  /** 2 the member, 3 the merchant's API, 4 the merchant platform, 5 account closed, 7 customer service. */
  terminationMode?: number;
  terminationRemark?: string;
  /** The v3 pre-deduction notice of the current cycle; a successful deduction starts the next cycle. */
  notice?: PapayNotice;
  notifications: DeliveryRecord[];
}

/** An Alipay agreement (docs/contracts.md#signing): TEMP from the page opening, NORMAL once signed, UNSIGN at the end. */
export interface AlipayAgreement {
  agreementNo: string;
  externalAgreementNo: string;
  personalProductCode: string;
  productCode: string;
  signScene: string;
  channel: string;
  periodType: 'DAY' | 'MONTH';
  period: number;
  executeTime: string;
  singleFen: number;
  notifyUrl?: string;
  status: 'TEMP' | 'NORMAL' | 'UNSIGN';
  alipayUserId: string;
  alipayLogonId: string;
  openedAt: Date;
  signTime?: Date;
  validTime?: Date;
  invalidTime?: Date;
  unsignTime?: Date;
  /** The page URL it was opened from: the "QR code" a member scans. */
  pageUrl: string;
  /** out_trade_no of its deductions, oldest first. */
  deductions: string[];
  notifications: DeliveryRecord[];
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
  /** WeChat Pay contract orders by out_trade_no, contracts by contract_id. */
  readonly papayOrders = new Map<string, PapayOrder>();
  readonly papayContracts = new Map<string, PapayContract>();
  /** Alipay agreements by agreement_no. */
  readonly agreements = new Map<string, AlipayAgreement>();
  /** The last request_serial per merchant: WeChat wants it increasing. */
  lastRequestSerial = 0n;

  findPapayContract(by: { contractId?: string; planId?: string; contractCode?: string }): PapayContract | undefined {
    if (by.contractId) return this.papayContracts.get(by.contractId);
    return [...this.papayContracts.values()].find((c) => c.planId === by.planId && c.contractCode === by.contractCode);
  }

  findAgreementByExternal(externalAgreementNo: string): AlipayAgreement | undefined {
    return [...this.agreements.values()].find((a) => a.externalAgreementNo === externalAgreementNo);
  }

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
