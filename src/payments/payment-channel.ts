import type { PayableOrder } from './payment-provider';

/**
 * How a payment is opened and what the client receives: a QR code to scan, or what an app, a
 * phone browser or WeChat's own browser needs to pay on the device itself. Everything after the
 * opening (notifications, query, close, expiry, refunds, bills) is the same for every channel.
 */
export const PAYMENT_CHANNELS = ['qr', 'app', 'h5', 'jsapi', 'wap', 'page'] as const;
export type PaymentChannel = (typeof PAYMENT_CHANNELS)[number];

/** One channel in a provider's descriptor. */
export interface ChannelSpec {
  /** What the operator sets to turn the channel on (named in PAYMENT_CHANNEL_DISABLED). */
  enabledBy: string;
  /**
   * How long the provider keeps what the client receives usable (a prepay_id, an h5_url), when
   * it sets a limit; the attempt expires no later than this after it was opened.
   */
  lifetimeMs?: number;
  /** What the client does with the answer (README and OpenAPI). */
  client: string;
}

/** A provider's channels: declared once, in the provider's folder. */
export type ChannelDescriptor<C extends PaymentChannel = PaymentChannel> = Readonly<Record<C, ChannelSpec>>;

/** What the caller of create-order supplied for the channel; each channel reads its own fields. */
export interface ChannelRequest {
  channel: PaymentChannel;
  /** JSAPI: the payer's openid under `appId`. */
  openid?: string;
  /** JSAPI: the official account's or mini program's app id the openid belongs to. */
  appId?: string;
  /** H5: the buyer's IP address as we see it (WeChat Pay's risk control compares it). */
  clientIp?: string;
  /** H5: the kind of page (`Wap`, `iOS`, `Android`). */
  h5Type?: string;
  /** H5, WAP, page: where the browser goes back after paying (already checked against the allowed origins). */
  returnUrl?: string;
}

/** What opening a payment gave: the client's parameters, and the QR content for the QR channel. */
export interface OpenedPayment {
  /** Exactly what the client needs, per channel (kept on the attempt and shown under `pay`). */
  pay: Record<string, string>;
  /** The QR channel's code, also shown at the top level for clients written before channels. */
  qrCodeUrl?: string;
}

/** A provider that can open payments on more channels than the QR code. */
export interface ChannelOpener {
  /** This provider's channels and, given its configuration, which are on. */
  readonly channels: Partial<ChannelDescriptor>;
  enabledChannels(): readonly PaymentChannel[];
  /** Throws a 400 when the request lacks what its channel needs; called before anything is recorded. */
  checkChannelRequest(request: ChannelRequest): void;
  open(order: PayableOrder, request: ChannelRequest): Promise<OpenedPayment>;
}
