import { DomainError } from '../common/errors/domain-error';
import type { ChannelRequest, PaymentChannel } from '../payments/payment-channel';
import type { CreateOrderDto } from './dto/create-order.dto';

/** The caller's connection, as far as opening a payment needs it. */
export interface ClientContext {
  /** The buyer's IP address (H5 sends it to WeChat Pay). */
  ip?: string;
}

/** What the caller gave for the channel; kept on the order so a refreshed attempt reuses it. */
export type ChannelOptions = Pick<ChannelRequest, 'openid' | 'appId' | 'returnUrl' | 'h5Type'>;

/** Which channel reads each optional field: a field sent for another channel is a mistake worth a 400. */
const FIELD_CHANNELS: Record<'openid' | 'app_id' | 'return_url' | 'h5_type', readonly PaymentChannel[]> = {
  openid: ['jsapi'],
  app_id: ['jsapi'],
  return_url: ['h5', 'wap', 'page'],
  h5_type: ['h5'],
};

const invalid = (detail: string) => new DomainError('VALIDATION_FAILED', 'The request is invalid', [detail]);

/**
 * The channel's options from create-order, checked: each field only for the channels that read
 * it, and a return_url only on an allowed origin (an open redirect otherwise).
 */
export function channelOptionsOf(dto: CreateOrderDto, channel: PaymentChannel, allowedOrigins: readonly string[]): ChannelOptions | null {
  for (const [field, channels] of Object.entries(FIELD_CHANNELS)) {
    if (dto[field as keyof typeof FIELD_CHANNELS] !== undefined && !channels.includes(channel)) {
      throw invalid(`${field} applies only to the ${channels.join(', ')} channel${channels.length > 1 ? 's' : ''}`);
    }
  }
  if (dto.return_url !== undefined && !allowedOrigins.includes(new URL(dto.return_url).origin)) {
    throw invalid(
      allowedOrigins.length
        ? `return_url must be on one of the allowed origins: ${allowedOrigins.join(', ')}`
        : 'return_url is not accepted: no origin is allowed (PAYMENT_RETURN_URL_ORIGINS)',
    );
  }
  const options: ChannelOptions = { openid: dto.openid, appId: dto.app_id, returnUrl: dto.return_url, h5Type: dto.h5_type };
  const set = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return Object.keys(set).length ? set : null;
}

/** Express reports IPv4 peers of a dual-stack socket as ::ffff:a.b.c.d; WeChat Pay wants a.b.c.d. */
export function clientIpOf(ip: string | undefined): string | undefined {
  return ip?.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1') || undefined;
}
