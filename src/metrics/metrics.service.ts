import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics. A registry of its own per application instance (not
 * prom-client's global one), so several instances in one process (tests) never collide.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly ordersCreated = new Counter({
    name: 'memberpay_orders_created_total',
    help: 'Orders created, by payment method and channel',
    labelNames: ['method', 'channel'],
    registers: [this.registry],
  });
  readonly ordersPaid = new Counter({
    name: 'memberpay_orders_paid_total',
    help: 'Orders settled as paid, by payment method and by what settled them (notification or active query)',
    labelNames: ['method', 'source'],
    registers: [this.registry],
  });
  readonly ordersEnded = new Counter({
    name: 'memberpay_orders_ended_total',
    help: 'Orders that ended unpaid, by payment method and status (expired, closed, failed)',
    labelNames: ['method', 'status'],
    registers: [this.registry],
  });
  readonly deductions = new Counter({
    name: 'memberpay_deductions_total',
    help: 'Deductions under auto-renewal contracts, by provider and outcome (paid, failed, pending: accepted and charged later, unknown: left to the query)',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  readonly contracts = new Gauge({
    name: 'memberpay_contracts',
    help: 'Auto-renewal contracts by provider and status (pending, active, past_due, cancelled, lapsed), read by the renewal job',
    labelNames: ['provider', 'status'],
    registers: [this.registry],
  });
  readonly renewalsDue = new Gauge({
    name: 'memberpay_renewals_due',
    help: 'Open contracts whose renewal is due (T passed or within a day) and not yet paid, and of them those late (T passed), read by the renewal job',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'memberpay_notifications_total',
    help: 'Provider notifications, by provider and outcome (accepted; rejected: forged, stale or malformed; unusable: signed by the provider but not usable here, for an operator; retry)',
    labelNames: ['provider', 'outcome'],
    registers: [this.registry],
  });
  readonly notificationRejections = new Counter({
    name: 'memberpay_notification_rejections_total',
    help: 'Provider notifications refused (rejected or unusable), by provider and reason: the code of the check that refused it (HEADERS_INCOMPLETE, BAD_SIGNATURE, WRONG_MCHID, UNKNOWN_ORDER, ...)',
    labelNames: ['provider', 'reason'],
    registers: [this.registry],
  });
  readonly upgradeShortfall = new Counter({
    name: 'memberpay_upgrade_shortfall_fen_total',
    help: 'Fen of upgrade prices whose days were gone when the upgrade was paid (recorded on the order as upgrade_shortfall, for support to refund)',
    registers: [this.registry],
  });
  readonly timeToPaid = new Histogram({
    name: 'memberpay_order_time_to_paid_seconds',
    help: 'Time from order creation to payment',
    labelNames: ['method'],
    buckets: [5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });
  readonly providerCalls = new Histogram({
    name: 'memberpay_provider_call_duration_seconds',
    help: 'Provider API call latency, by provider, operation and outcome (ok, error, timeout)',
    labelNames: ['provider', 'operation', 'outcome'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly refunds = new Counter({
    name: 'memberpay_refunds_total',
    help: 'Refund state changes, by provider and the status reached (processing, success, failed, closed, abnormal)',
    labelNames: ['provider', 'status'],
    registers: [this.registry],
  });
  readonly doublePayments = new Counter({
    name: 'memberpay_double_payments_total',
    help: 'Second payments of an already paid order (each refunded in full by itself), by provider',
    labelNames: ['provider'],
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: 'memberpay_job_runs_total',
    help: 'Scheduled job runs, by job and outcome (ok, failed)',
    labelNames: ['job', 'outcome'],
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: 'memberpay_websocket_connections',
    help: 'Open WebSocket connections',
    registers: [this.registry],
  });
  readonly outboxRelayed = new Counter({
    name: 'memberpay_outbox_relayed_total',
    help: 'Order events pushed by the relay because the instance that committed them never did (it died in between)',
    registers: [this.registry],
  });
  readonly wsEvents = new Counter({
    name: 'memberpay_websocket_events_delivered_total',
    help: 'Order events pushed to WebSocket clients, by type',
    labelNames: ['type'],
    registers: [this.registry],
  });
  readonly wsCaughtUp = new Counter({
    name: 'memberpay_websocket_events_caught_up_total',
    help: 'Order events read back from the outbox for connections here because the Redis subscription was down when they were published',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'memberpay_' });
  }
}
