/**
 * Emitted after commit when an upgrade order has time it could not convert (its days ran out or a
 * refund took them): the refunds module reckons the shortfall and returns it, as it returns a
 * double payment. The refund job finds any that a crash left behind.
 */
export const UPGRADE_SHORTFALL = 'orders.upgrade-shortfall';

export interface UpgradeShortfall {
  orderId: string;
}
