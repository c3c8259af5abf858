import type { ProviderSettings } from '../provider-settings';
import { ALIPAY_SETTINGS } from './alipay.settings';
import { WECHAT_PAY_SETTINGS } from './wechat-pay.settings';

/**
 * Each payment provider's settings, under the name the service knows the provider by (the same
 * names as PROVIDER_NAMES in src/payments/provider-name.ts: the payments catalog refuses to compile
 * when the two lists differ). Only the settings live here, never an adapter: reading the
 * configuration loads neither provider's SDK.
 */
export const PROVIDER_SETTINGS = {
  wechat: WECHAT_PAY_SETTINGS,
  alipay: ALIPAY_SETTINGS,
} as const;

/** A provider with settings: a section of AppConfig under its name. */
export type ConfiguredProviderName = keyof typeof PROVIDER_SETTINGS;

/** The section a provider's settings build (its configuration, e.g. WechatPayConfig). */
export type SectionOf<S> = S extends ProviderSettings<infer C, infer _Env> ? C : never;

/** Each provider's configuration section under its name in AppConfig; absent: the provider is off. */
export type ProviderConfigs = { [N in ConfiguredProviderName]?: SectionOf<(typeof PROVIDER_SETTINGS)[N]> };

/** [name, settings] for every provider, in the order above (the order of the configuration's reports). */
export const PROVIDER_SETTINGS_ENTRIES = Object.entries(PROVIDER_SETTINGS) as [ConfiguredProviderName, ProviderSettings<unknown>][];
