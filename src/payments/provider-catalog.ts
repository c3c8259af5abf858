import type { AppConfig } from '../config/app-config';
import type { ConfiguredProviderName, ProviderConfigs } from '../config/providers/provider-sections';
import type { PaymentChannel } from './payment-channel';
import type { ProviderDescriptor } from './provider-descriptor';
import { PROVIDER_NAMES, type ProviderName } from './provider-name';
import { ALIPAY } from './providers/alipay/alipay.descriptor';
import { WECHAT_PAY } from './providers/wechat/wechat-pay.descriptor';

/**
 * Every provider's descriptor, by name: the one list of providers the rest of the service reads.
 * Each maps its settings' section of the configuration (src/config/providers/) to its adapter.
 */
const PROVIDERS = {
  wechat: WECHAT_PAY,
  alipay: ALIPAY,
} satisfies { [N in ProviderName]: ProviderDescriptor<N, NonNullable<ProviderConfigs[N]>> };

/** True when A and B are the same set of names. */
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
// A provider with settings but no descriptor (or the reverse) would be configured yet never offered:
// the compiler refuses it here.
true satisfies SameNames<ProviderName, ConfiguredProviderName>;

/** The descriptors, in PROVIDER_NAMES order (the order of reports, logs and OpenAPI). */
export const PROVIDER_DESCRIPTORS: readonly ProviderDescriptor[] = PROVIDER_NAMES.map((name) => PROVIDERS[name]);

/** The provider's name in messages: "WeChat Pay is not enabled on this service". */
export const providerLabel = (name: ProviderName): string => PROVIDERS[name].label;

/** Every channel some provider offers, in the order the descriptors list them. */
export const OFFERED_CHANNELS = [...new Set(PROVIDER_DESCRIPTORS.flatMap((d) => Object.keys(d.channels)))] as PaymentChannel[];

/** One line per provider and channel, for the OpenAPI description of `channel`. */
export function describeChannels(): string {
  return PROVIDER_DESCRIPTORS.map(
    (d) =>
      `${d.name}: ${Object.entries(d.channels)
        .map(([channel, spec]) => `\`${channel}\` (${spec.client}; on with ${spec.enabledBy})`)
        .join(', ')}`,
  ).join('. ');
}

/** The channels this configuration turns on, per payment method (an unconfigured one has none). */
export function enabledChannelsByMethod(config: AppConfig): Record<ProviderName, PaymentChannel[]> {
  return Object.fromEntries(
    PROVIDER_DESCRIPTORS.map((d) => {
      const section = config[d.name];
      return [d.name, section ? [...d.enabledChannels(section)] : []];
    }),
  ) as Record<ProviderName, PaymentChannel[]>;
}
