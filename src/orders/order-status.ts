export const ORDER_STATUSES = ['pending', 'paid', 'expired', 'closed', 'failed', 'refunded', 'partially_refunded'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const PAYMENT_METHODS = ['wechat', 'alipay'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

export const PRODUCT_TYPES = ['membership'] as const;
export type ProductType = (typeof PRODUCT_TYPES)[number];

/** Order numbers and payment numbers travel as out_trade_no: keep them to [0-9A-Za-z_-] (the WeChat Pay SDK puts them in paths unencoded: docs/wechat-pay.md#sdk). */
export const ORDER_NO_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;
