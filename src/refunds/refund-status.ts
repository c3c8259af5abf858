/**
 * processing: asked, not finished (or the provider's answer was lost); success: money returned;
 * failed: the provider refused it (nothing returned); closed: the provider gave up on it (nothing
 * returned); abnormal: stuck at the provider (WeChat Pay: the buyer's card refused it) — not
 * final, shown to support and queried on.
 */
export const REFUND_STATUSES = ['processing', 'success', 'failed', 'closed', 'abnormal'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * Statuses that hold money against what was paid (the rest returned nothing): the trigger
 * refunds_within_paid counts the same refunds (every status but failed and closed).
 */
export const HOLDING_STATUSES: readonly RefundStatus[] = ['processing', 'success', 'abnormal'];

/** Statuses not over yet: the refund job queries them at the provider until they end. */
export const UNFINISHED_STATUSES: readonly RefundStatus[] = ['processing', 'abnormal'];

/** support: asked by an admin; duplicate_payment: the second payment of an order, returned by itself. */
export const REFUND_KINDS = ['support', 'duplicate_payment'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];

/** The reason and requester of an automatic refund of a double payment. */
export const DUPLICATE_PAYMENT_REASON = 'duplicate payment';
export const SYSTEM_REQUESTER = 'system';
