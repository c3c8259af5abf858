import { MembershipGrant } from '../membership/membership-grant.entity';
import { MembershipPlan } from '../membership/membership-plan.entity';
import { MembershipPeriod } from '../membership/membership-period.entity';
import { IdempotencyKey } from '../orders/idempotency-key.entity';
import { OrderEvent } from '../outbox/order-event.entity';
import { Order } from '../orders/order.entity';
import { PaymentRecord } from '../payments/payment-record.entity';
import { ReconciliationItem } from '../reconciliation/reconciliation-item.entity';
import { ReconciliationRun } from '../reconciliation/reconciliation-run.entity';
import { Refund } from '../refunds/refund.entity';

export const ENTITIES = [MembershipPlan, MembershipGrant, MembershipPeriod, Order, PaymentRecord, IdempotencyKey, OrderEvent, Refund,
  ReconciliationRun, ReconciliationItem];
