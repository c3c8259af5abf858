import type { ConfigProblem } from './config-error';

/**
 * A payment provider's part of the configuration, declared in providers/<name>.settings.ts apart
 * from its adapter (src/payments/providers/<name>/): its variables, their validation, the section
 * it builds from them, and what production and `npm run config:check` ask of it. buildAppConfig
 * goes through every provider's settings (providers/provider-sections.ts) and config:check through
 * the payments catalog, so neither names a provider.
 *
 * `C` is the section (AppConfig's field under the provider's name), `S` the schema of its variables.
 */
export interface ProviderSettings<C, S extends object = object> {
  /** Every variable of the provider starts with it: problems under it make the provider misconfigured. */
  readonly envPrefix: string;
  /**
   * The class-validator schema of its variables, validated at boot with the service's own. Its
   * properties are the variables, in the order config:check lists them.
   */
  readonly schema: new () => S;
  /** Variables whose values are secrets: masked wherever configuration is shown. */
  readonly secrets: readonly string[];
  /**
   * The section, from the validated variables: undefined when none of those that turn the provider
   * on is set (it is off). Throws ConfigError naming each problem.
   */
  build(env: S): C | undefined;
  /** What may be shown of the section (the configuration's JSON and inspection): never a key. */
  summary(config: C): Record<string, unknown>;
  /** Where the provider sends payment notifications, as [variable, URL]: https in production. */
  notifyUrl(config: C): readonly [string, string | undefined];
  /**
   * The provider's API, as [variable, URL]: refused in production when it is on this machine (the
   * sandbox) or plain http (requests and answers are signed, not encrypted).
   */
  apiUrl(config: C): readonly [string, string];
  /** The provider's own test environment, recognised by its API URL (config:check says so). */
  readonly providerSandbox?: RegExp;
  /** Further production rules of the provider's own. */
  productionProblems(config: C): ConfigProblem[];
  /** Further config:check warnings of the provider's own. */
  checkWarnings(config: C): string[];
}

/** A comma-separated list, trimmed, without empty items. */
export const splitList = (value?: string): string[] =>
  (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);

/** The variables of `named` that are unset, each a problem "is required when <provider> is configured". */
export function missingWhenConfigured(named: Record<string, string | undefined>, provider: string): ConfigProblem[] {
  return Object.entries(named)
    .filter(([, v]) => !v)
    .map(([variable]) => ({ variable, problem: `is required when ${provider} is configured` }));
}

/** The production rule for a URL we are called on or call: https, or nothing else. */
export function httpsInProduction(variable: string, url: string | undefined): ConfigProblem[] {
  return url && !url.startsWith('https://') ? [{ variable, problem: 'must be https in production' }] : [];
}
