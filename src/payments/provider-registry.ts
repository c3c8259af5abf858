import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DomainError } from '../common/errors/domain-error';
import { MetricsService } from '../metrics/metrics.service';
import type { BillCapability, PaymentProvider, RefundCapability } from './payment-provider';
import type { ChannelOpener, PaymentChannel } from './payment-channel';
import { PROVIDER_DESCRIPTORS, providerLabel as label } from './provider-catalog';
import { PROVIDER_NAMES, type ProviderName } from './provider-name';

/** Every configured provider, registered by dependency injection (one entry per payment method). */
export const PAYMENT_PROVIDERS = Symbol('PAYMENT_PROVIDERS');

@Injectable()
export class ProviderRegistry implements OnModuleInit {
  private readonly logger = new Logger('Payments');
  private readonly byName: Map<ProviderName, PaymentProvider>;
  private readonly refundsByName = new Map<ProviderName, RefundCapability>();
  private readonly billsByName = new Map<ProviderName, BillCapability>();

  constructor(@Inject(PAYMENT_PROVIDERS) providers: (PaymentProvider | null)[], metrics: MetricsService) {
    const configured = providers.filter((p): p is PaymentProvider => !!p);
    this.byName = new Map(configured.map((p) => [p.name, instrument(p, metrics)]));
    // The optional capabilities each descriptor declares, reached on the adapter it made and timed like its calls.
    for (const adapter of configured) {
      const d = PROVIDER_DESCRIPTORS.find((x) => x.name === adapter.name);
      const refunds = d?.refunds?.(adapter);
      if (refunds) this.refundsByName.set(adapter.name, instrumentRefunds(adapter.name, refunds, metrics));
      const bills = d?.bills?.(adapter);
      if (bills) this.billsByName.set(adapter.name, { fetchBill: timer(adapter.name, metrics)('bill', bills.fetchBill.bind(bills)) });
    }
  }

  /**
   * The provider's refunds, when it can refund: a 400 when the provider is off, a 409 when it has no
   * refunds (its descriptor declares none), before anything is written.
   */
  refunds(name: ProviderName): RefundCapability {
    this.get(name);
    const refunds = this.refundsByName.get(name);
    if (!refunds) throw new DomainError('ORDER_NOT_REFUNDABLE', `${label(name)} offers no refunds on this service`);
    return refunds;
  }

  /** The provider's daily bills, or undefined when it has none to reconcile against. */
  bills(name: ProviderName): BillCapability | undefined {
    return this.billsByName.get(name);
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

/** A timer for one provider's calls, by operation and outcome. */
function timer(provider: ProviderName, metrics: MetricsService) {
  return <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.providerCalls.startTimer({ provider, operation });
      try {
        const result = await fn(...args);
        end({ outcome: 'ok' });
        return result;
      } catch (e) {
        end({ outcome: e instanceof DomainError && e.code === 'PROVIDER_TIMEOUT' ? 'timeout' : 'error' });
        throw e;
      }
    };
}

/** Times a provider's refund calls. */
function instrumentRefunds(name: ProviderName, refunds: RefundCapability, metrics: MetricsService): RefundCapability {
  const timed = timer(name, metrics);
  return { refund: timed('refund', refunds.refund.bind(refunds)), queryRefund: timed('refund_query', refunds.queryRefund.bind(refunds)) };
}

/** Times every API call a provider makes, by operation and outcome, without touching the providers. */
function instrument(provider: PaymentProvider, metrics: MetricsService): PaymentProvider {
  const timed = timer(provider.name, metrics);
  const bound = <A extends unknown[], R>(operation: string, fn: (...args: A) => Promise<R>) => timed(operation, fn.bind(provider));
  return Object.assign(Object.create(provider) as PaymentProvider, {
    createQr: bound('create', provider.createQr),
    query: bound('query', provider.query),
    close: bound('close', provider.close),
    ...('open' in provider ? { open: bound('create', (provider as PaymentProvider & ChannelOpener).open) } : {}),
  });
}
