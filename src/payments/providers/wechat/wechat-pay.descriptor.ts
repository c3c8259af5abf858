import type { ProviderDescriptor } from '../../provider-descriptor';
import { WECHAT_CHANNELS, wechatEnabledChannels } from './wechat-pay.channels';
import { WECHAT_PAY_SETTINGS, type WechatPayConfig } from '../../../config/providers/wechat-pay.settings';
import { WechatPayProvider } from './wechat-pay.provider';
import { WechatPayAgreements } from './wechat-pay.agreements';

/** WeChat Pay (微信支付) API v3: Native QR codes, APP, JSAPI and H5 payments (docs/wechat-pay.md, docs/channels.md). */
export const WECHAT_PAY: ProviderDescriptor<'wechat', WechatPayConfig> = {
  name: 'wechat',
  label: 'WeChat Pay',
  settings: WECHAT_PAY_SETTINGS,
  channels: WECHAT_CHANNELS,
  enabledChannels: wechatEnabledChannels,
  create: (config, timeoutMs) => new WechatPayProvider(config, timeoutMs),
  refunds: (adapter) => adapter as WechatPayProvider,
  bills: (adapter) => adapter as WechatPayProvider,
  agreements: (config, timeoutMs) => (config.papay ? new WechatPayAgreements({ ...config, papay: config.papay }, timeoutMs) : undefined),
};
