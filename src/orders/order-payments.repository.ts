import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { preparedQueryIn } from '../database/prepared-query';
import { OrderPayment, PaidOrders } from '../payments/paid-orders';

/** Where an order is marked paid: settlement calls it in its transaction, under its lock of the order. */
@Injectable()
export class OrderPaymentsRepository extends PaidOrders {
  async markPaid(m: EntityManager, p: OrderPayment): Promise<void> {
    await preparedQueryIn(
      m,
      'settle-mark-order-paid',
      `UPDATE orders SET status = 'paid', paid_at = $2, transaction_id = $3, payment_no = $4, upgrade_shortfall = $5, updated_at = now()
        WHERE id = $1`,
      [p.orderId, p.paidAt, p.transactionId, p.paymentNo, p.upgradeShortfall],
    );
  }
}
