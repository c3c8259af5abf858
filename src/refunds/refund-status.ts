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

/**
 * support: asked by an admin; duplicate_payment: the second payment of an order, returned by
 * itself; upgrade_shortfall: the part of an upgrade's price whose days were not there to convert.
 */
export const REFUND_KINDS = ['support', 'duplicate_payment', 'upgrade_shortfall'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];

/** What a support refund does to the membership: take back the days its fen bought, or keep them (a concession). */
export const REFUND_MEMBERSHIP_EFFECTS = ['withdraw', 'keep'] as const;
export type RefundMembershipEffect = (typeof REFUND_MEMBERSHIP_EFFECTS)[number];

/** The reason and requester of an automatic refund of a double payment. */
export const DUPLICATE_PAYMENT_REASON = 'duplicate payment';
export const UPGRADE_SHORTFALL_REASON = 'upgrade shortfall';
export const SYSTEM_REQUESTER = 'system';
