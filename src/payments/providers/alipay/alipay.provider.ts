import { Logger } from '@nestjs/common';
import { AlipayRequestError, AlipaySdk } from 'alipay-sdk';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ProviderTimeoutError, ProviderUnavailableError } from '../../../common/errors/domain-error';
import { yuanToFen } from '../../../common/money';
import type {
  Acknowledgement,
  CloseResult,
  NotificationResult,
  PayableOrder,
  PaymentEvent,
  PaymentProvider,
  QrPayment,
  RawNotification,
  RefundEvent,
  RefundRequest,
} from '../../payment-provider';
import {
  type BillCapability,
  IncomingNotification,
  NotificationRejected,
  type RefundCapability,
  RefundRefused,
  stateEvent,
} from '../../payment-provider';
import { BillRejected, type BillFetch } from '../../provider-bill';
import type { ChannelOpener, ChannelRequest, OpenedPayment } from '../../payment-channel';
import { parseAlipayBill } from './alipay.bill';
import { ALIPAY_CHANNELS, alipayEnabledChannels, openAlipayPhonePayment } from './alipay.channels';
import type { AlipayConfig } from '../../../config/providers/alipay.settings';
import { dateToBeijing, fenToYuan, toPaymentEvent, toRefundEvent } from './alipay.mapper';
import { namedAlipayPaymentNo, verifiedAlipayFields, verifyAlipayNotification } from './alipay.notification';
import type { AlipayAnswer } from './alipay.types';

/** Alipay's limit on refund_reason (docs/refunds.md). */
const REFUND_REASON_MAX = 256;

/** Far above a real day's bill; a download is held in memory to be unzipped. */
const MAX_BILL_BYTES = 64 * 1024 * 1024;

/**
 * Alipay face-to-face (当面付) QR payments through alipay-sdk. Every answer's signature is
 * checked (`validateSign: true`: without it the SDK accepts a forged answer, docs/alipay.md#sdk).
 */
export class AlipayProvider implements PaymentProvider, ChannelOpener, RefundCapability, BillCapability {
  readonly name = 'alipay' as const;
  readonly channels = ALIPAY_CHANNELS;
  private readonly logger = new Logger('Alipay');
  private readonly sdk: AlipaySdk;

  constructor(
    private readonly config: AlipayConfig,
    private readonly timeoutMs: number,
  ) {
    this.sdk = new AlipaySdk({
      appId: config.appId,
      privateKey: config.privateKeyPem,
      alipayPublicKey: config.alipayPublicKeyPem,
      gateway: config.gateway,
      keyType: 'PKCS8', // the configuration normalises every private key to PKCS#8
      signType: 'RSA2',
      timeout: timeoutMs,
      camelcase: false,
    });
    // alipay-sdk keeps both keys as PEM text and hands them to node:crypto's sign/verify on every
    // call, which parses the PEM each time (the largest CPU cost of an Alipay notification in
    // `npm run bench -- --profile`). node:crypto accepts KeyObjects in the same places, and the SDK
    // uses these two fields for nothing else (alipay.js / util.js in 4.x), so they are parsed once,
    // after the SDK has validated and formatted them.
    const keys = this.sdk.config as unknown as { privateKey: unknown; alipayPublicKey: unknown };
    keys.privateKey = createPrivateKey(this.sdk.config.privateKey);
    keys.alipayPublicKey = createPublicKey(this.sdk.config.alipayPublicKey);
  }

  async createQr(order: PayableOrder): Promise<QrPayment> {
    const minutes = Math.max(1, Math.floor((order.expiresAt.getTime() - Date.now()) / 60_000));
    const node = await this.exec(
      'alipay.trade.precreate',
      'create',
      {
        out_trade_no: order.paymentNo,
        total_amount: fenToYuan(order.amountFen),
        subject: order.description,
        product_code: 'FACE_TO_FACE_PAYMENT',
        // timeout_express counts from the scan; time_expire caps it at the QR code's own expiry (docs/alipay.md#precreate).
        timeout_express: `${minutes}m`,
        time_expire: dateToBeijing(order.expiresAt),
      },
      { notify_url: this.config.notifyUrl },
    );
    if (node.code !== '10000' || typeof node.qr_code !== 'string' || !node.qr_code) throw this.businessFailure('create', node);
    return { qrCodeUrl: node.qr_code };
  }

  enabledChannels() {
    return alipayEnabledChannels(this.config);
  }

  /** No channel of Alipay needs more from the caller than the order itself. */
  checkChannelRequest(): void {}

  /** Opens the attempt on the caller's channel: precreate for the QR code, else signed locally. */
  async open(order: PayableOrder, request: ChannelRequest): Promise<OpenedPayment> {
    if (request.channel === 'qr') {
      const { qrCodeUrl } = await this.createQr(order);
      return { qrCodeUrl, pay: { qr_code_url: qrCodeUrl } };
    }
    if (request.channel !== 'app' && request.channel !== 'wap' && request.channel !== 'page') {
      throw new ProviderUnavailableError(`Alipay has no ${request.channel} channel`);
    }
    return openAlipayPhonePayment(this.sdk, this.config, order, { ...request, channel: request.channel });
  }

  async query(paymentNo: string): Promise<PaymentEvent> {
    const node = await this.exec('alipay.trade.query', 'query', { out_trade_no: paymentNo });
    if (node.code === '40004' && node.sub_code === 'ACQ.TRADE_NOT_EXIST') {
      // Before the buyer scans, Alipay does not know the trade: not paid, as WeChat Pay's 404 (docs/alipay.md#the-trade-exists-from-the-scan).
      return stateEvent('alipay', paymentNo, 'not_found', 'TRADE_NOT_EXIST');
    }
    if (node.code !== '10000' || node.out_trade_no !== paymentNo) throw this.businessFailure('query', node);
    return toPaymentEvent(node, paymentNo);
  }

  async close(paymentNo: string): Promise<CloseResult> {
    const node = await this.exec('alipay.trade.close', 'close', { out_trade_no: paymentNo });
    if (node.code === '10000') return 'closed';
    // Not scanned yet: nothing was closed, and the code stays scannable until it expires (B.5).
    if (node.sub_code === 'ACQ.TRADE_NOT_EXIST') return 'not_found';
    if (node.sub_code === 'ACQ.TRADE_HAS_SUCCESS') return 'paid';
    if (node.sub_code === 'ACQ.TRADE_HAS_CLOSE') return 'closed';
    if (node.sub_code === 'ACQ.TRADE_STATUS_ERROR') {
      // Not closable: paid, or closed already. Anything else is not an answer to act on.
      const state = await this.query(paymentNo);
      if (state.outcome === 'paid' || state.outcome === 'closed') return state.outcome;
      throw new ProviderUnavailableError(`Alipay refused to close ${paymentNo} in state ${state.tradeState}`);
    }
    throw this.businessFailure('close', node);
  }

  /** Every Alipay notification here is a trade's (trade_status_sync): refunds are answered synchronously and queried. */
  async verifyNotification(raw: RawNotification): Promise<IncomingNotification> {
    return { kind: 'payment', event: this.paymentResult(raw) };
  }

  namedPaymentNo(raw: RawNotification): string | null {
    return namedAlipayPaymentNo(raw);
  }

  private paymentResult(raw: RawNotification): PaymentEvent {
    const fields = verifyAlipayNotification(raw, this.config, this.sdk);
    const event = toPaymentEvent(fields, fields.out_trade_no, fields.notify_id);
    if (event.outcome === 'paid' && event.amountFen === null)
      throw new NotificationRejected('MALFORMED_AMOUNT', 'total_amount is not an amount in yuan');
    // total_amount is in CNY unless the trade names another currency (cross-border trades carry trans_currency).
    for (const field of ['currency', 'trans_currency'] as const) {
      if (fields[field] !== undefined && fields[field] !== 'CNY')
        throw new NotificationRejected('WRONG_CURRENCY', `the payment is in ${fields[field]}, not CNY`);
    }
    return event;
  }

  /**
   * Day D's trade bill (docs/reconciliation.md, Alipay): the signed answer of
   * alipay.data.dataservice.bill.downloadurl.query gives a URL valid about 30 s, fetched at once
   * with a plain GET (it carries its own token; Alipay signs nothing there). isp.bill_not_exist
   * means no file for the day: no trades, or not generated yet.
   */
  async fetchBill(date: string): Promise<BillFetch> {
    const node = await this.exec('alipay.data.dataservice.bill.downloadurl.query', 'bill', { bill_type: 'trade', bill_date: date });
    if (node.code !== '10000') {
      const sub = String(node.sub_code ?? '').toLowerCase();
      if (sub.includes('bill_not_exist')) return { status: 'no_statement', detail: `Alipay has no bill for the day (${node.sub_code})` };
      throw this.businessFailure('bill', node);
    }
    const url = node.bill_download_url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw this.businessFailure('bill', node);
    let zip: Buffer;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs * 4) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const length = Number(res.headers.get('content-length') ?? 0);
      if (length > MAX_BILL_BYTES) throw new BillRejected('MALFORMED_BILL', 'the Alipay bill is implausibly large');
      zip = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      if (e instanceof BillRejected) throw e;
      this.logger.warn(`bill download failed: ${(e as Error)?.name ?? 'error'}`);
      throw new ProviderUnavailableError('Alipay failed the bill download');
    }
    return { status: 'ready', bill: parseAlipayBill(zip, date) };
  }

  /**
   * The return page's parameters, verified like a notification (same RSA2 rule, docs/alipay.md#return-url). Returns
   * our out_trade_no, or null when the signature is bad. It never settles anything.
   */
  verifyReturn(query: Record<string, string>): string | null {
    try {
      const fields = verifiedAlipayFields(this.sdk, new URLSearchParams(query).toString());
      return fields.app_id === this.config.appId && fields.out_trade_no ? fields.out_trade_no : null;
    } catch {
      return null;
    }
  }

  /**
   * alipay.trade.refund is synchronous (docs/refunds.md): 10000 means refunded (fund_change N only says an
   * earlier call with this out_request_no already moved the money). ACQ.SYSTEM_ERROR and 20000
   * leave the outcome unknown: the caller queries, or sends the same out_request_no again. Any
   * other business refusal is final and carries Alipay's words.
   */
  async refund(request: RefundRequest): Promise<RefundEvent> {
    const node = await this.exec('alipay.trade.refund', 'refund', {
      out_trade_no: request.paymentNo,
      refund_amount: fenToYuan(request.amountFen),
      refund_reason: [...request.reason].slice(0, REFUND_REASON_MAX).join(''),
      out_request_no: request.refundNo,
    });
    if (node.code === '10000' && node.out_trade_no === request.paymentNo) {
      return toRefundEvent(
        request,
        'success',
        `fund_change=${String(node.fund_change ?? '')}`,
        node,
        request.amountFen,
        node.gmt_refund_pay,
      );
    }
    if (node.code === '40004' && node.sub_code && node.sub_code !== 'ACQ.SYSTEM_ERROR') {
      this.logger.warn(`refund ${request.refundNo} refused: ${node.sub_code}`);
      throw new RefundRefused(node.sub_code, String(node.sub_msg ?? node.msg ?? 'refused').slice(0, 200));
    }
    throw this.businessFailure('refund', node);
  }

  /** The refund query (docs/refunds.md): 10000 with refund data (refund_status REFUND_SUCCESS or absent) is refunded; without data, not refunded. */
  async queryRefund(request: Pick<RefundRequest, 'refundNo' | 'paymentNo'>): Promise<RefundEvent> {
    const node = await this.exec('alipay.trade.fastpay.refund.query', 'refund query', {
      out_trade_no: request.paymentNo,
      out_request_no: request.refundNo,
    });
    if (node.code === '40004' && node.sub_code === 'ACQ.TRADE_NOT_EXIST')
      return toRefundEvent(request, 'not_found', 'TRADE_NOT_EXIST', node, null);
    if (node.code !== '10000' || (node.out_trade_no !== undefined && node.out_trade_no !== request.paymentNo))
      throw this.businessFailure('refund query', node);
    const amount = typeof node.refund_amount === 'string' ? yuanToFen(node.refund_amount) : null;
    const status = node.refund_status === undefined ? undefined : String(node.refund_status);
    if (amount !== null && (status === undefined || status === 'REFUND_SUCCESS')) {
      return toRefundEvent(request, 'success', status ?? 'REFUND_SUCCESS', node, amount, node.gmt_refund_pay);
    }
    return toRefundEvent(request, 'not_found', status ?? 'NO_REFUND_DATA', node, null);
  }

  /** Alipay stops resending on the exact body `success` (docs/alipay.md#acknowledgement). */
  acknowledge(result: NotificationResult): Acknowledgement {
    if (result === 'accepted') return { status: 200, contentType: 'text/plain', body: 'success' };
    return { status: result === 'rejected' ? 400 : 500, contentType: 'text/plain', body: 'failure' };
  }

  private async exec(
    method: string,
    operation: string,
    bizContent: Record<string, unknown>,
    extra: Record<string, string | undefined> = {},
  ): Promise<AlipayAnswer> {
    const params: Record<string, unknown> = { bizContent, timestamp: dateToBeijing(new Date()) };
    for (const [k, v] of Object.entries(extra)) if (v) params[k] = v; // the SDK signs empty values too: never pass ''
    try {
      const result = await this.sdk.exec(method, params, { validateSign: true });
      return result as unknown as AlipayAnswer;
    } catch (e) {
      throw this.transportFailure(operation, e);
    }
  }

  private transportFailure(operation: string, e: unknown): Error {
    const err = e as AlipayRequestError & { cause?: { name?: string; code?: string } };
    const timedOut = /timeout/i.test(`${err?.cause?.name ?? ''} ${err?.cause?.code ?? ''} ${err?.message ?? ''}`);
    this.logger.warn(
      `${operation} failed: ${timedOut ? 'timeout' : (err?.name ?? 'error')}${err?.responseHttpStatus ? ` HTTP ${err.responseHttpStatus}` : ''}`,
    );
    return timedOut
      ? new ProviderTimeoutError(`Alipay did not answer the ${operation} request in time`)
      : new ProviderUnavailableError(`Alipay failed the ${operation} request`);
  }

  private businessFailure(operation: string, node: AlipayAnswer): Error {
    this.logger.warn(`${operation} refused: ${node.code ?? '-'} ${node.sub_code ?? '-'}`);
    return new ProviderUnavailableError(`Alipay failed the ${operation} request (${[node.code, node.sub_code].filter(Boolean).join(' ')})`);
  }
}
