import { Logger } from '@nestjs/common';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { Wechatpay } from 'wechatpay-axios-plugin';
import type { WechatPayConfig } from '../../../config/providers/wechat-pay.settings';
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
import type { ChannelOpener, ChannelRequest, OpenedPayment } from '../../payment-channel';
import { checkWechatChannelRequest, openWechatPhonePayment, WECHAT_CHANNELS, wechatEnabledChannels } from './wechat-pay.channels';
import { BillRejected, type BillFetch } from '../../provider-bill';
import { parseWechatBill } from './wechat-pay.bill';
import { describeFailure, toProviderError } from './wechat-pay.errors';
import { beijingRfc3339, toPaymentEvent, toRefundEvent } from './wechat-pay.mapper';
import {
  asWechatPayment,
  asWechatRefund,
  namedWechatPaymentNo,
  openWechatNotification,
  type OpenedWechatNotification,
} from './wechat-pay.notification';
import type { WechatRefund, WechatTransaction } from './wechat-pay.types';

/** WeChat Pay's limit on a refund's reason (docs/refunds.md). */
const REASON_MAX = 80;
/**
 * Refund refusals that are final: a 4xx other than these means the request itself was refused
 * (window over, amount exceeds what is refundable, merchant balance short). 401 is our signing,
 * 404 RESOURCE_NOT_EXISTS can be transient right after a payment, 429 is a rate limit: all
 * retried later with the same out_refund_no (docs/refunds.md).
 */
const RETRYABLE_4XX = new Set([401, 404, 429]);

// The SDK's chain answers any path segment with a further request builder, so no static type names them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK's paths are dynamic
type Api = AxiosInstance & Record<string, any>;

/**
 * WeChat Pay API v3, Native (QR) payments through wechatpay-axios-plugin.
 * The SDK instance is a field, never a Nest provider: it answers every property name with a
 * request builder, `then` and `onModuleInit` included (docs/wechat-pay.md#sdk).
 */
export class WechatPayProvider implements PaymentProvider, ChannelOpener, RefundCapability, BillCapability {
  readonly name = 'wechat' as const;
  readonly channels = WECHAT_CHANNELS;
  /** Signs what APP and JSAPI clients receive; parsed once. */
  private readonly signingKey: KeyObject;
  private readonly logger = new Logger('WechatPay');
  private readonly client: { v3: Api };
  /** The verifying keys, parsed once (a PEM parsed per notification costs more than the verification). */
  private readonly verifiers: Record<string, KeyObject>;

  constructor(
    private readonly config: WechatPayConfig,
    timeoutMs: number,
  ) {
    this.signingKey = createPrivateKey(config.privateKeyPem);
    this.verifiers = Object.fromEntries(Object.entries(config.verifiers).map(([id, pem]) => [id, createPublicKey(pem)]));
    const publicKeyId = Object.keys(config.verifiers).find((id) => id.startsWith('PUB_KEY_ID_'));
    this.client = new Wechatpay({
      mchid: config.mchId,
      serial: config.certSerial,
      privateKey: config.privateKeyPem,
      certs: { ...this.verifiers },
      baseURL: config.baseUrl,
      timeout: timeoutMs,
      // Ask for public-key signatures when we hold that key (docs/wechat-pay.md#verification-keys).
      headers: publicKeyId ? { 'Wechatpay-Serial': publicKeyId } : {},
    }) as unknown as { v3: Api };
  }

  async createQr(order: PayableOrder): Promise<QrPayment> {
    const res = await this.call(
      'create',
      () =>
        this.client.v3.pay.transactions.native.post({
          appid: this.config.appId,
          mchid: this.config.mchId,
          description: order.description,
          out_trade_no: order.paymentNo,
          time_expire: beijingRfc3339(order.expiresAt),
          notify_url: this.config.notifyUrl,
          amount: { total: order.amountFen, currency: 'CNY' },
        }) as Promise<AxiosResponse<{ code_url?: unknown }>>,
    );
    const codeUrl = res.data?.code_url;
    if (typeof codeUrl !== 'string' || !codeUrl.startsWith('weixin://')) {
      throw toProviderError({ message: 'answer without a code_url' }, 'create');
    }
    return { qrCodeUrl: codeUrl };
  }

  enabledChannels() {
    return wechatEnabledChannels(this.config);
  }

  checkChannelRequest(request: ChannelRequest): void {
    checkWechatChannelRequest(this.config, request);
  }

  /** Opens the attempt on the caller's channel: Native for the QR code, else APP, JSAPI or H5. */
  async open(order: PayableOrder, request: ChannelRequest): Promise<OpenedPayment> {
    if (request.channel === 'qr') {
      const { qrCodeUrl } = await this.createQr(order);
      return { qrCodeUrl, pay: { qr_code_url: qrCodeUrl } };
    }
    const post = (path: 'app' | 'jsapi' | 'h5', body: Record<string, unknown>) =>
      this.call('create', () => this.client.v3.pay.transactions[path].post(body) as Promise<AxiosResponse<Record<string, unknown>>>);
    return openWechatPhonePayment(post, this.config, this.signingKey, order, { ...request, channel: request.channel });
  }

  async query(paymentNo: string): Promise<PaymentEvent> {
    let res: AxiosResponse<WechatTransaction>;
    try {
      res = await this.client.v3.pay.transactions.outTradeNo.$out_trade_no$.get({
        params: { mchid: this.config.mchId },
        out_trade_no: paymentNo,
      });
    } catch (e) {
      if (describeFailure(e).status === 404) {
        return stateEvent('wechat', paymentNo, 'not_found', 'NOT_FOUND');
      }
      throw this.failed(e, 'query');
    }
    if (!res.data || typeof res.data !== 'object' || res.data.out_trade_no !== paymentNo || res.data.mchid !== this.config.mchId) {
      throw toProviderError({ message: 'an answer for another trade' }, 'query');
    }
    const event = toPaymentEvent(res.data);
    if (event.outcome === 'paid' && res.data.amount?.currency !== 'CNY') {
      this.logger.error(`query of ${paymentNo}: paid in ${res.data.amount?.currency ?? 'no currency'}, not CNY; not settled`);
      throw toProviderError({ message: 'a payment in another currency' }, 'query');
    }
    return event;
  }

  async close(paymentNo: string): Promise<CloseResult> {
    let res: AxiosResponse;
    try {
      res = await this.client.v3.pay.transactions.outTradeNo.$out_trade_no$.close.post(
        { mchid: this.config.mchId },
        { out_trade_no: paymentNo },
      );
    } catch (e) {
      const { status, code } = describeFailure(e);
      if (code === 'ORDERPAID' || code === 'ORDER_PAID') return 'paid';
      if (status === 404 || code === 'ORDER_CLOSED') return 'closed';
      throw this.failed(e, 'close');
    }
    // Closed is 204 No Content (docs/wechat-pay.md#closing); anything else is not a close we can trust.
    if (res.status !== 204) throw this.failed({ response: { status: res.status } }, 'close');
    return 'closed';
  }

  /**
   * Payment and refund results come in the same signed, encrypted envelope; its event_type says
   * which (TRANSACTION.* or REFUND.*), and each kind's own checks follow.
   */
  async verifyNotification(raw: RawNotification): Promise<IncomingNotification> {
    const opened = openWechatNotification(raw, this.config, this.verifiers, new Date());
    if (opened.eventType.startsWith('REFUND.')) return { kind: 'refund', event: this.refundResult(opened) };
    return { kind: 'payment', event: this.paymentResult(opened) };
  }

  namedPaymentNo(raw: RawNotification): string | null {
    return namedWechatPaymentNo(raw, this.config);
  }

  private paymentResult(opened: OpenedWechatNotification): PaymentEvent {
    const { tx, eventId, eventType } = asWechatPayment(opened, this.config);
    const event = toPaymentEvent(tx, eventId);
    if (eventType !== 'TRANSACTION.SUCCESS' || event.outcome !== 'paid') {
      throw new NotificationRejected('UNEXPECTED_EVENT', `event ${eventType || '?'} with trade_state ${event.tradeState} is not a payment`);
    }
    // Amounts are compared in fen of CNY, the only currency we open payments in.
    if (tx.amount?.currency !== 'CNY')
      throw new NotificationRejected('WRONG_CURRENCY', `the payment is in ${tx.amount?.currency ?? 'no currency'}, not CNY`);
    return event;
  }

  private refundResult(opened: OpenedWechatNotification): RefundEvent {
    const { refund, eventId, eventType } = asWechatRefund(opened);
    const event = toRefundEvent(refund, eventId);
    if (eventType !== `REFUND.${event.providerState}`) {
      throw new NotificationRejected(
        'UNEXPECTED_EVENT',
        `event ${eventType || '?'} with refund_status ${event.providerState} is not a refund result`,
      );
    }
    return event;
  }

  /**
   * Day D's trade bill (docs/reconciliation.md, WeChat Pay): apply with a signed GET, whose
   * signed answer gives the download URL and the SHA1 of the uncompressed file, then download at
   * once (the URL lives about 30 s) with a signed GET whose answer is not signed (the plugin
   * skips verification for /v3/billdownload/file). The body is fetched as bytes: axios would
   * otherwise decode it as text and drop the BOM, and both the SHA1 and the parser need it.
   */
  async fetchBill(date: string): Promise<BillFetch> {
    let applied: AxiosResponse<{ download_url?: unknown; hash_type?: unknown; hash_value?: unknown }>;
    try {
      applied = await this.client.v3.bill.tradebill.get({ params: { bill_date: date, bill_type: 'ALL', tar_type: 'GZIP' } });
    } catch (e) {
      const { code } = describeFailure(e);
      if (code === 'NO_STATEMENT_EXIST')
        return { status: 'no_statement', detail: 'WeChat Pay has no bill for the day (NO_STATEMENT_EXIST)' };
      if (code === 'STATEMENT_CREATING')
        return { status: 'not_ready', detail: 'WeChat Pay is still generating the bill (STATEMENT_CREATING)' };
      throw this.failed(e, 'bill');
    }
    const { download_url: url, hash_type: hashType, hash_value: hash } = applied.data ?? {};
    if (typeof url !== 'string' || hashType !== 'SHA1' || typeof hash !== 'string') {
      throw toProviderError({ message: 'a bill answer without download_url or SHA1' }, 'bill');
    }
    // Only the path and token are taken from the URL: our signed request goes to our configured host.
    const target = new URL(url, this.config.baseUrl);
    if (target.pathname !== '/v3/billdownload/file') throw toProviderError({ message: 'an unexpected download_url' }, 'bill');
    const downloaded = await this.call(
      'bill',
      () =>
        this.client.v3.billdownload.file.get({
          params: Object.fromEntries(target.searchParams),
          responseType: 'arraybuffer',
        }) as Promise<AxiosResponse<ArrayBuffer>>,
    );
    let bytes = Buffer.from(downloaded.data);
    try {
      // A proxy that sets Content-Encoding gets the file inflated by axios already: gunzip only gzip.
      if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes, { maxOutputLength: 256 * 1024 * 1024 });
    } catch {
      throw new BillRejected('MALFORMED_BILL', `the WeChat Pay bill of ${date} is not gzip`);
    }
    return { status: 'ready', bill: parseWechatBill(bytes, hash, date) };
  }

  async refund(request: RefundRequest): Promise<RefundEvent> {
    let res: AxiosResponse<WechatRefund>;
    try {
      res = await this.client.v3.refund.domestic.refunds.post({
        out_trade_no: request.paymentNo,
        out_refund_no: request.refundNo,
        reason: [...request.reason].slice(0, REASON_MAX).join(''),
        notify_url: this.config.refundNotifyUrl,
        amount: { refund: request.amountFen, total: request.totalFen, currency: 'CNY' },
      });
    } catch (e) {
      const { status, code } = describeFailure(e);
      if (status && status >= 400 && status < 500 && !RETRYABLE_4XX.has(status)) {
        const message = (e as { response?: { data?: { message?: unknown } } })?.response?.data?.message;
        this.logger.warn(`refund ${request.refundNo} refused: HTTP ${status} ${code ?? '-'}`);
        throw new RefundRefused(code ?? `HTTP_${status}`, typeof message === 'string' ? message.slice(0, 200) : 'refused');
      }
      throw this.failed(e, 'refund');
    }
    return this.refundAnswer(res, request.refundNo, 'refund');
  }

  async queryRefund(request: Pick<RefundRequest, 'refundNo' | 'paymentNo'>): Promise<RefundEvent> {
    let res: AxiosResponse<WechatRefund>;
    try {
      res = await this.client.v3.refund.domestic.refunds.$out_refund_no$.get({ out_refund_no: request.refundNo });
    } catch (e) {
      const { status, code } = describeFailure(e);
      if (status === 404 && (code === 'RESOURCE_NOT_EXISTS' || code === 'ORDER_NOT_EXIST' || code === 'ORDERNOTEXIST')) {
        return {
          provider: 'wechat',
          refundNo: request.refundNo,
          paymentNo: request.paymentNo,
          outcome: 'not_found',
          providerState: 'NOT_FOUND',
          providerRefundId: null,
          amountFen: null,
          succeededAt: null,
          payload: {},
        };
      }
      throw this.failed(e, 'refund query');
    }
    return this.refundAnswer(res, request.refundNo, 'refund query');
  }

  private refundAnswer(res: AxiosResponse<WechatRefund>, refundNo: string, operation: string): RefundEvent {
    if (!res.data || typeof res.data !== 'object' || res.data.out_refund_no !== refundNo) {
      throw toProviderError({ message: 'an answer for another refund' }, operation);
    }
    return toRefundEvent(res.data);
  }

  /** Success is 200/204 with no body; failure 4xx/5xx with {code: FAIL} (docs/wechat-pay.md#acknowledgement). */
  acknowledge(result: NotificationResult, reason?: string): Acknowledgement {
    if (result === 'accepted') return { status: 204, contentType: 'application/json', body: '' };
    const status = result === 'rejected' ? 400 : 500;
    return { status, contentType: 'application/json', body: JSON.stringify({ code: 'FAIL', message: reason ?? 'failed' }) };
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.failed(e, operation);
    }
  }

  private failed(error: unknown, operation: string): Error {
    const { status, code } = describeFailure(error);
    this.logger.warn(`${operation} failed: HTTP ${status ?? '-'} ${code ?? '-'}`);
    return toProviderError(error, operation);
  }
}
