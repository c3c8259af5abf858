import type { AppConfig } from '../config/app-config';
import type { AgreementProvider } from './agreements';
import { PROVIDER_DESCRIPTORS } from './provider-catalog';
import type { ProviderName } from './provider-name';

/**
 * The providers this configuration can sign contracts with, by name: a provider is listed when its
 * descriptor offers the capability and its section configures it. The rest of the service asks this
 * map "can you?", never a provider's name.
 */
export function agreementProviders(config: AppConfig, timeoutMs: number): Partial<Record<ProviderName, AgreementProvider>> {
  const out: Partial<Record<ProviderName, AgreementProvider>> = {};
  for (const d of PROVIDER_DESCRIPTORS) {
    const section = config[d.name];
    const adapter = section ? d.agreements?.(section, timeoutMs) : undefined;
    if (adapter) out[d.name] = adapter;
  }
  return out;
}
