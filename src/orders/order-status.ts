import { PROVIDER_NAMES, type ProviderName } from '../payments/provider-name';

export const ORDER_STATUSES = ['pending', 'paid', 'expired', 'closed', 'failed', 'refunded', 'partially_refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** An order is paid through one of the payment providers: its payment method is the provider's name. */
export const PAYMENT_METHODS = PROVIDER_NAMES;
export type PaymentMethod = ProviderName;

export const PRODUCT_TYPES = ['membership'] as const;
export type ProductType = (typeof PRODUCT_TYPES)[number];

/** Order numbers and payment numbers travel as out_trade_no: keep them to [0-9A-Za-z_-] (the WeChat Pay SDK puts them in paths unencoded: docs/wechat-pay.md#sdk). */
export const ORDER_NO_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;

/** Who made an order: the member, or the renewal job under the member's auto-renewal contract. */
export const ORDER_SOURCES = ['member', 'renewal'] as const;
export type OrderSource = (typeof ORDER_SOURCES)[number];
