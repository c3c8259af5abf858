import type { ProviderDescriptor } from '../../provider-descriptor';
import { ALIPAY_CHANNELS, alipayEnabledChannels } from './alipay.channels';
import { ALIPAY_SETTINGS, type AlipayConfig } from '../../../config/providers/alipay.settings';
import { AlipayProvider } from './alipay.provider';
import { AlipayAgreements } from './alipay.agreements';

/** Alipay (支付宝) OpenAPI: face-to-face QR codes, APP, mobile and desktop website payments (docs/alipay.md, docs/channels.md). */
export const ALIPAY: ProviderDescriptor<'alipay', AlipayConfig> = {
  name: 'alipay',
  label: 'Alipay',
  settings: ALIPAY_SETTINGS,
  channels: ALIPAY_CHANNELS,
  enabledChannels: alipayEnabledChannels,
  create: (config, timeoutMs) => new AlipayProvider(config, timeoutMs),
  refunds: (adapter) => adapter as AlipayProvider,
  bills: (adapter) => adapter as AlipayProvider,
  agreements: (config, timeoutMs) =>
    config.agreement ? new AlipayAgreements({ ...config, agreement: config.agreement }, timeoutMs) : undefined,
};
