import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { AgreementProvider } from './agreements';
import { providerLabel as label } from './provider-catalog';
import { PROVIDER_NAMES, type ProviderName } from './provider-name';

/** The contract adapters of this configuration, by provider (absent: auto-renewal is off there). */
export const AGREEMENT_PROVIDERS = Symbol('AGREEMENT_PROVIDERS');

/** Which providers can sign auto-renewal contracts here, and their adapters: the core asks "can you?". */
@Injectable()
export class AgreementRegistry implements OnModuleInit {
  private readonly logger = new Logger('Payments');

  constructor(@Inject(AGREEMENT_PROVIDERS) private readonly byName: Partial<Record<ProviderName, AgreementProvider>>) {}

  onModuleInit(): void {
    const on = PROVIDER_NAMES.filter((n) => this.byName[n]).map(label);
    this.logger.log(on.length ? `auto-renewal by contract is on for ${on.join(' and ')}` : 'auto-renewal by contract is off');
  }

  find(name: string): AgreementProvider | undefined {
    return (PROVIDER_NAMES as readonly string[]).includes(name) ? this.byName[name as ProviderName] : undefined;
  }
}
