import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ProviderUnavailableError } from '../common/errors/domain-error';
import { newPaymentNo } from '../common/trade-numbers';
import { AppConfig } from '../config/app-config';
import { AgreementRegistry } from './agreement-registry';
import { AgreementRefused, type AgreementSignRequest } from './agreements';
import type { ChannelRequest, OpenedPayment, PaymentChannel } from './payment-channel';
import type { ProviderName } from './provider-name';
import type { PaymentRecord } from './payment-record.entity';
import { NewAttempt, PaymentRecordsRepository, PlannedAttempt } from './payment-records.repository';
import { ProviderRegistry } from './provider-registry';

const MINUTE = 60_000;
/** The first active query comes a minute after the QR code was issued: sooner, the buyer has rarely scanned yet. */
const FIRST_QUERY_DELAY_MS = MINUTE;

/** What opening an attempt at its provider needs to know of the order. */
export interface AttemptOrder {
  method: ProviderName;
  amountFen: number;
  description: string;
}

/** What signing a contract with an attempt adds to the order (AgreementSignRequest, less what the attempt gives). */
export type AttemptSigning = Pick<
  AgreementSignRequest,
  'contractNo' | 'planCode' | 'amountFen' | 'displayAccount' | 'periodDays' | 'firstDeductionDate'
>;

/**
 * Payment attempts, from their opening: orders ask here for a payment (a QR code, a prepay_id, an
 * h5_url …) and never touch payment_records. Settling and closing attempts is PaymentsService's.
 */
@Injectable()
export class PaymentAttemptsService {
  constructor(
    private readonly config: AppConfig,
    private readonly records: PaymentRecordsRepository,
    private readonly registry: ProviderRegistry,
    private readonly agreements: AgreementRegistry,
  ) {}

  /**
   * The out_trade_no and timing of a new attempt for an order expiring at `orderExpireAt`: no later
   * than the channel's own limit at the provider, when it has one.
   */
  plan(method: ProviderName, channel: PaymentChannel, orderExpireAt: Date, now: Date, signs = false): PlannedAttempt {
    const lifetimeMs = this.registry.forChannel(method, channel).channels[channel]?.lifetimeMs ?? Infinity;
    // A signing's code is the order's only one (a second could sign the contract twice): it lives as long as the order.
    const codeMinutes = signs ? Infinity : this.config.qrCodeExpireMinutes;
    return {
      paymentNo: newPaymentNo(now),
      qrExpireAt: new Date(Math.min(now.getTime() + codeMinutes * MINUTE, orderExpireAt.getTime(), now.getTime() + lifetimeMs)),
      orderExpireAt,
      nextQueryAt: new Date(now.getTime() + FIRST_QUERY_DELAY_MS),
    };
  }

  /** Records a planned attempt on the caller's transaction. */
  record(m: EntityManager, attempt: NewAttempt): Promise<void> {
    return this.records.insert(m, attempt);
  }

  /** How many attempts the order has had (call under the order's lock to count and record as one step). */
  countFor(m: EntityManager, orderId: string): Promise<number> {
    return this.records.countOf(m, orderId);
  }

  openOf(orderId: string): Promise<PaymentRecord[]> {
    return this.records.openOf(orderId);
  }

  /**
   * Removes a failed attempt the provider refused, on the caller's transaction: the first attempt of
   * an order that is not kept (the order goes with it, so nothing references the row).
   */
  discard(m: EntityManager, paymentNo: string): Promise<void> {
    return this.records.removeFailed(m, paymentNo);
  }

  /** Closes the order's pending attempts on the caller's transaction, as the order ends. */
  closeOpenOf(m: EntityManager, orderId: string): Promise<void> {
    return this.records.closeOpenOf(m, orderId);
  }

  /**
   * Opens the recorded attempt at its provider and keeps what the client needs on it. When the
   * provider fails or times out, the attempt is marked failed (with `alsoOnFailure`, the caller's own
   * consequences of that error, in the same transaction) and closed at the provider in the
   * background, since a timed-out request may have created the trade; then the error goes on to the
   * caller.
   */
  async open(
    order: AttemptOrder,
    attempt: PlannedAttempt,
    request: ChannelRequest,
    db: EntityManager,
    alsoOnFailure: (m: EntityManager, error: unknown) => Promise<void>,
  ): Promise<OpenedPayment> {
    const provider = this.registry.forChannel(order.method, request.channel);
    let opened: OpenedPayment;
    try {
      opened = await provider.open(
        { paymentNo: attempt.paymentNo, amountFen: order.amountFen, description: order.description, expiresAt: attempt.qrExpireAt },
        request,
      );
    } catch (e) {
      await db.transaction(async (m) => {
        await this.records.markFailed(m, attempt.paymentNo);
        await alsoOnFailure(m, e);
      });
      provider.close(attempt.paymentNo).catch(() => undefined);
      throw e;
    }
    await this.records.recordOpened(db, attempt.paymentNo, opened.qrCodeUrl ?? null, opened.pay);
    return opened;
  }

  /**
   * Opens the recorded attempt as a contract signing (auto-renewal): WeChat Pay's pay-and-sign code pays
   * this attempt and signs the contract at once; Alipay's agreement page only signs (the first period is
   * then deducted under the contract, with an attempt of its own). The member opens the URL as a QR code
   * (qr) or on the phone (`h5_url` / `url`). A failure is handled as in `open`; a refusal to sign is a 502.
   */
  async openSigning(
    order: AttemptOrder,
    attempt: PlannedAttempt,
    request: ChannelRequest,
    signing: AttemptSigning,
    db: EntityManager,
    alsoOnFailure: (m: EntityManager) => Promise<void>,
  ): Promise<OpenedPayment> {
    const adapter = this.agreements.find(order.method);
    let url: string;
    try {
      if (!adapter) throw new ProviderUnavailableError(`auto-renewal is off for ${order.method}`);
      ({ url } = await adapter.sign({
        ...signing,
        paymentNo: attempt.paymentNo,
        firstAmountFen: order.amountFen,
        description: order.description,
        channel: request.channel,
        clientIp: request.clientIp ?? '127.0.0.1',
      }));
    } catch (e) {
      await db.transaction(async (m) => {
        await this.records.markFailed(m, attempt.paymentNo);
        await alsoOnFailure(m);
      });
      // A pay-and-sign code may have been created before the error: closed like any payment's.
      if (adapter?.signing === 'pay_and_sign')
        this.registry
          .get(order.method)
          .close(attempt.paymentNo)
          .catch(() => undefined);
      if (e instanceof AgreementRefused)
        throw new ProviderUnavailableError(`${order.method} refused to sign the contract (${e.providerCode})`);
      throw e;
    }
    const expiresAt = attempt.qrExpireAt.toISOString();
    const opened: OpenedPayment =
      request.channel === 'qr'
        ? { qrCodeUrl: url, pay: { channel: 'qr', qr_code_url: url, expires_at: expiresAt } }
        : { pay: { channel: request.channel, expires_at: expiresAt, ...(request.channel === 'h5' ? { h5_url: url } : { url }) } };
    await this.records.recordOpened(db, attempt.paymentNo, opened.qrCodeUrl ?? null, opened.pay);
    return opened;
  }
}
