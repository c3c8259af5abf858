import type { AppConfig } from '../config/app-config';
import type { PaymentMethod } from '../orders/order-status';
import type { ChannelDescriptor, PaymentChannel } from './payment-channel';
import { ALIPAY_CHANNELS, alipayEnabledChannels } from './providers/alipay/alipay.channels';
import { WECHAT_CHANNELS, wechatEnabledChannels } from './providers/wechat/wechat-pay.channels';

/** Each provider's descriptor, by payment method: the request's validation and OpenAPI read this. */
export const CHANNELS_BY_METHOD: Record<PaymentMethod, Partial<ChannelDescriptor>> = {
  wechat: WECHAT_CHANNELS,
  alipay: ALIPAY_CHANNELS,
};

/** Every channel some provider offers, in the order the descriptors list them. */
export const OFFERED_CHANNELS = [...new Set(Object.values(CHANNELS_BY_METHOD).flatMap((d) => Object.keys(d)))] as PaymentChannel[];

/** One line per provider and channel, for the OpenAPI description of `channel`. */
export function describeChannels(): string {
  return Object.entries(CHANNELS_BY_METHOD).map(([method, descriptor]) =>
    `${method}: ${Object.entries(descriptor).map(([channel, spec]) => `\`${channel}\` (${spec.client}; on with ${spec.enabledBy})`).join(', ')}`,
  ).join('. ');
}

/** The channels this configuration turns on, per configured payment method (an unconfigured one has none). */
export function enabledChannelsByMethod(config: AppConfig): Record<PaymentMethod, PaymentChannel[]> {
  return {
    wechat: config.wechat ? wechatEnabledChannels(config.wechat) : [],
    alipay: config.alipay ? alipayEnabledChannels(config.alipay) : [],
  };
}
