import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { MetricsService } from '../metrics/metrics.service';
import type { PaymentProvider } from './payment-provider';
import type { ChannelOpener, PaymentChannel } from './payment-channel';
import { providerLabel as label } from './provider-catalog';
import { PROVIDER_NAMES, type ProviderName } from './provider-name';

/** Every configured provider, registered by dependency injection (one entry per payment method). */
export const PAYMENT_PROVIDERS = Symbol('PAYMENT_PROVIDERS');

@Injectable()
export class ProviderRegistry implements OnModuleInit {
  private readonly logger = new Logger('Payments');
  private readonly byName: Map<ProviderName, PaymentProvider>;

  constructor(@Inject(PAYMENT_PROVIDERS) providers: (PaymentProvider | null)[], metrics: MetricsService) {
    this.byName = new Map(providers.filter((p): p is PaymentProvider => !!p).map((p) => [p.name, instrument(p, metrics)]));
  }

  onModuleInit(): void {
    for (const name of PROVIDER_NAMES) {
      if (!this.byName.has(name)) this.logger.warn(`${label(name)} is not configured: it is off`);
    }
  }

  /** The provider for a payment method, or a 400 saying it is not enabled. */
  get(name: ProviderName): PaymentProvider {
    const provider = this.byName.get(name);
    if (!provider) throw new DomainError('PAYMENT_METHOD_DISABLED', `${label(name)} is not enabled on this service`);
    return provider;
  }

  /**
   * The provider for a payment method and channel: a 400 when the provider does not have the
   * channel, PAYMENT_CHANNEL_DISABLED (naming what to configure) when its configuration does not
   * turn it on.
   */
  forChannel(name: ProviderName, channel: PaymentChannel): PaymentProvider & ChannelOpener {
    const provider = this.get(name) as PaymentProvider & ChannelOpener;
    const spec = provider.channels[channel];
    if (!spec) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', [
        `channel ${channel} is not offered by ${label(name)} (its channels: ${Object.keys(provider.channels).join(', ')})`,
      ]);
    }
    if (!provider.enabledChannels().includes(channel)) {
      throw new DomainError(
        'PAYMENT_CHANNEL_DISABLED',
        `${label(name)} channel ${channel} is not enabled on this service: set ${spec.enabledBy}`,
      );
    }
    return provider;
  }

  find(name: string): PaymentProvider | undefined {
    return this.byName.get(name as ProviderName);
  }

  /**
   * The out_trade_no in the query of a browser sent back after paying, verified by the provider that
   * sends browsers back (verifyReturn); null when none verifies it.
   */
  verifyReturn(query: Record<string, string>): string | null {
    for (const provider of this.byName.values()) {
      const paymentNo = provider.verifyReturn?.(query);
      if (paymentNo) return paymentNo;
    }
    return null;
  }
}

/** Times every API call a provider makes, by operation and outcome, without touching the providers. */
function instrument(provider: PaymentProvider, metrics: MetricsService): PaymentProvider {
  const timed =
    <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.providerCalls.startTimer({ provider: provider.name, operation });
      try {
        const result = await fn.apply(provider, args);
        end({ outcome: 'ok' });
        return result;
      } catch (e) {
        end({ outcome: e instanceof DomainError && e.code === 'PROVIDER_TIMEOUT' ? 'timeout' : 'error' });
        throw e;
      }
    };
  return Object.assign(Object.create(provider) as PaymentProvider, {
    createQr: timed('create', provider.createQr),
    query: timed('query', provider.query),
    close: timed('close', provider.close),
    fetchBill: timed('bill', provider.fetchBill),
    refund: timed('refund', provider.refund),
    queryRefund: timed('refund_query', provider.queryRefund),
    ...('open' in provider ? { open: timed('create', (provider as PaymentProvider & ChannelOpener).open) } : {}),
  });
}
