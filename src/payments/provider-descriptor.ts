import type { ProviderSettings } from '../config/provider-settings';
import type { AgreementProvider } from './agreements';
import type { ChannelDescriptor, ChannelOpener, PaymentChannel } from './payment-channel';
import type { BillCapability, PaymentProvider, RefundCapability } from './payment-provider';
import type { ProviderName } from './provider-name';

/**
 * What the service knows of one payment provider, declared in the provider's folder
 * (providers/<name>/<name>.descriptor.ts) and listed once in provider-catalog.ts. The
 * configuration, config:check, the registry, create-order's validation, OpenAPI and the checkout
 * page read the list, so none of them names a provider.
 *
 * `C` is the provider's configuration section (AppConfig's field under its name).
 */
export interface ProviderDescriptor<N extends ProviderName = ProviderName, C = unknown> {
  readonly name: N;
  /** How members and operators know it, in messages and reports (WeChat Pay for 微信支付, Alipay for 支付宝). */
  readonly label: string;
  /** Its variables, their validation, its section, and what production and config:check ask of it. */
  readonly settings: ProviderSettings<C>;
  /** Its channels and what turns each on. */
  readonly channels: Partial<ChannelDescriptor>;
  /** The channels its section turns on. */
  enabledChannels(config: C): readonly PaymentChannel[];
  /** The adapter for a configured section (`timeoutMs` bounds every API call). */
  create(config: C, timeoutMs: number): PaymentProvider & ChannelOpener;
  /**
   * Refunds, an optional capability: how to reach them on the adapter `create` made. A provider
   * without it is visibly without it; the refunds module asks ProviderRegistry.refunds.
   */
  refunds?(adapter: PaymentProvider): RefundCapability;
  /** Daily trade bills, an optional capability (reconciliation asks ProviderRegistry.bills). */
  bills?(adapter: PaymentProvider): BillCapability;
  /**
   * Auto-renewal by contract (docs/contracts.md), an optional capability: the adapter when the section
   * configures it, undefined when it does not (auto-renewal is then off for this provider).
   */
  agreements?(config: C, timeoutMs: number): AgreementProvider | undefined;
}
