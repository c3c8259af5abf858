import { InitialSchema1764057600000 } from './1764057600000-InitialSchema';
import { SeedMembershipPlans1764057600001 } from './1764057600001-SeedMembershipPlans';
import { IdempotencyKeys1764057600002 } from './1764057600002-IdempotencyKeys';
import { OrderEvents1764057600003 } from './1764057600003-OrderEvents';
import { OrderProductForeignKey1764057600004 } from './1764057600004-OrderProductForeignKey';
import { SettleAttemptFunction1764057600005 } from './1764057600005-SettleAttemptFunction';
import { MembershipPeriods1764057600100 } from './1764057600100-MembershipPeriods';
import { IdempotencyAnswerText1764057600201 } from './1764057600201-IdempotencyAnswerText';
import { OrderEventsPublished1764057600202 } from './1764057600202-OrderEventsPublished';
import { Refunds1764057600300 } from './1764057600300-Refunds';
import { PaymentChannels1764057600401 } from './1764057600401-PaymentChannels';
import { ReconciliationTables1764057600500 } from './1764057600500-ReconciliationTables';
import { AttemptDoublePayment1764057600601 } from './1764057600601-AttemptDoublePayment';
import { OrderStatusTransitions1764057600602 } from './1764057600602-OrderStatusTransitions';
import { UpgradeShortfallAndPartialRefunds1764057600603 } from './1764057600603-UpgradeShortfallAndPartialRefunds';
import { IdempotencyRecorded1764057600701 } from './1764057600701-IdempotencyRecorded';
import { ReconciliationResolutions1764057600702 } from './1764057600702-ReconciliationResolutions';
import { Webhooks1764057600800 } from './1764057600800-Webhooks';
import { AdminAuditLog1764057600900 } from './1764057600900-AdminAuditLog';
import { PlanNamesZh1764057601001 } from './1764057601001-PlanNamesZh';
import { Contracts1764057601100 } from './1764057601100-Contracts';
import { ContractFirstOrder1764057601150 } from './1764057601150-ContractFirstOrder';
import { Renewals1764057601200 } from './1764057601200-Renewals';
import { ReconciliationFees1764057601301 } from './1764057601301-ReconciliationFees';
import { NotificationRefusals1764057601302 } from './1764057601302-NotificationRefusals';
import { UpgradeShortfallPricedOnConverted1764057601400 } from './1764057601400-UpgradeShortfallPricedOnConverted';
import { OrderLocksNoKeyUpdate1764057601401 } from './1764057601401-OrderLocksNoKeyUpdate';
import { OrdersUpgradeQuotedAt1764057601402 } from './1764057601402-OrdersUpgradeQuotedAt';
import { AttemptOrderExpiry1764057601800 } from './1764057601800-AttemptOrderExpiry';
import { LedgerResumeIndexes1764057601900 } from './1764057601900-LedgerResumeIndexes';
import { RefundJobIndexes1764057601901 } from './1764057601901-RefundJobIndexes';

/** Every migration, in order. A new migration file is added here too. */
export const MIGRATIONS = [
  InitialSchema1764057600000,
  SeedMembershipPlans1764057600001,
  IdempotencyKeys1764057600002,
  OrderEvents1764057600003,
  OrderProductForeignKey1764057600004,
  SettleAttemptFunction1764057600005,
  MembershipPeriods1764057600100,
  IdempotencyAnswerText1764057600201,
  OrderEventsPublished1764057600202,
  Refunds1764057600300,
  PaymentChannels1764057600401,
  ReconciliationTables1764057600500,
  AttemptDoublePayment1764057600601,
  OrderStatusTransitions1764057600602,
  UpgradeShortfallAndPartialRefunds1764057600603,
  IdempotencyRecorded1764057600701,
  ReconciliationResolutions1764057600702,
  Webhooks1764057600800,
  AdminAuditLog1764057600900,
  PlanNamesZh1764057601001,
  Contracts1764057601100,
  ContractFirstOrder1764057601150,
  Renewals1764057601200,
  ReconciliationFees1764057601301,
  NotificationRefusals1764057601302,
  UpgradeShortfallPricedOnConverted1764057601400,
  OrderLocksNoKeyUpdate1764057601401,
  OrdersUpgradeQuotedAt1764057601402,
  AttemptOrderExpiry1764057601800,
  LedgerResumeIndexes1764057601900,
  RefundJobIndexes1764057601901,
];
