import type { AppConfig } from '../config/app-config';
import type { PaymentChannel } from './payment-channel';
import type { ProviderDescriptor } from './provider-descriptor';
import { PROVIDER_NAMES, type ProviderName } from './provider-name';
import { ALIPAY } from './providers/alipay/alipay.descriptor';
import { WECHAT_PAY } from './providers/wechat/wechat-pay.descriptor';

/** Every provider's descriptor, by name: the one list of providers the rest of the service reads. */
const PROVIDERS = {
  wechat: WECHAT_PAY,
  alipay: ALIPAY,
} satisfies { [N in ProviderName]: { name: N } };

type SectionOf<D> = D extends ProviderDescriptor<ProviderName, infer C> ? C : never;

/** Each provider's configuration section under its name in AppConfig; absent: the provider is off. */
export type ProviderConfigs = { [N in ProviderName]?: SectionOf<(typeof PROVIDERS)[N]> };

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
