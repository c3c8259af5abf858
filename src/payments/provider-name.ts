/**
 * The payment providers this service speaks to, by the name it uses for them everywhere: the
 * callback URL (`/api/v1/payment/<name>/callback`), `payment_method` in the API and the database,
 * the metrics' labels. Each has its folder under providers/ and its descriptor in provider-catalog.ts.
 */
export const PROVIDER_NAMES = ['wechat', 'alipay'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
