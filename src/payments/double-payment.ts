/**
 * Emitted on the in-process event bus after a settlement found an attempt paid for an order that
 * another attempt had already paid (the money is at the provider twice). The refunds module
 * returns it; if the process dies before that, its scheduled job finds the payment anyway.
 */
export const DOUBLE_PAYMENT = 'payments.double-payment';

export interface DoublePayment {
  paymentNo: string;
  orderNo: string;
}
