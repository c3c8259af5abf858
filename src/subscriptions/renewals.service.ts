import { Injectable, Logger } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { MembershipService } from '../membership/membership.service';
import { MetricsService } from '../metrics/metrics.service';
import { OrdersService } from '../orders/orders.service';
import type { OrderEventType } from '../outbox/order-event.entity';
import {
  appendOrderEvent,
  type AutoRenewLapsedPayload,
  type CommittedOrderEvent,
  ORDER_EVENTS_COMMITTED,
  type RenewalFailedPayload,
  type RenewalUpcomingPayload,
  type RenewedPayload,
} from '../outbox/order-events';
import { AgreementDeductions, type DeductionOutcome } from '../payments/agreement-deductions.service';
import { AgreementRegistry } from '../payments/agreement-registry';
import { nextStep, nextTryAfter, REMINDER_LEAD_MS, type CycleState, type RenewalStep } from './renewal-schedule';
import { RenewalsRepository, type CycleRow, type RenewingContract } from './renewals.repository';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** A deduction without a result yet: the contract is looked at again this soon (its query decides). */
const RECHECK_MS = 5 * MINUTE;
/** A deduction still in flight when the contract comes up: it is looked at again this much later. */
const IN_FLIGHT_RECHECK_MS = 30 * MINUTE;
/** Steps one contract may take in one run (remind, notice, deduct, settle … each is one). */
const MAX_STEPS = 10;
/** Days after the end of grace a renewal order stays payable: past the lapse, so the job ends it, not the expiry. */
const ORDER_EXPIRY_AFTER_GRACE_DAYS = 2;

/** What one run did, per kind of step (the job's report and the CLI's lines). */
export interface RenewalTally {
  claimed: number;
  reminders: number;
  notices: number;
  deductions: number;
  renewed: number;
  declined: number;
  pending: number;
  lapsed: number;
  queried: number;
  /** Signings the sweep confirmed by querying the provider (their notification never came). */
  confirmed: number;
  /** Pending contracts the sweep released: never signed, their order over. */
  released: number;
  /** First-period charges the sweep asked for (a signing whose charge never started): paid, pending or declined. */
  firstPeriods: number;
  failed: number;
}

export const emptyTally = (): RenewalTally => ({
  claimed: 0,
  reminders: 0,
  notices: 0,
  deductions: 0,
  renewed: 0,
  declined: 0,
  pending: 0,
  lapsed: 0,
  queried: 0,
  confirmed: 0,
  released: 0,
  firstPeriods: 0,
  failed: 0,
});

/** A line of the dry run: what the next step for a due contract would be. */
export interface PlannedStep {
  contractNo: string;
  provider: string;
  cycle: number;
  step: RenewalStep['step'];
  detail?: string;
}

/**
 * Renewals of auto-renewal contracts, cycle by cycle (T is the end of the member's paid time):
 * T − 5 days the cycle's renewal order and membership.renewal_upcoming; the merchant's pre-deduction
 * notice where the provider wants one; from T − 1 day (in WeChat's 07:00–22:00 window) a deduction through
 * payments (AgreementDeductions: one attempt of the cycle's order per try, settled through the one settle
 * path); a failure makes the contract past_due with grace until T + RENEWAL_GRACE_DAYS, retried the next
 * day, at most RENEWAL_RETRY_MAX tries; then lapsed, terminated at the provider. Each change is a
 * conditional UPDATE under the contract's lock, so a step run twice changes once; a cycle has one order, so
 * it is paid at most once (a second payment of it is a double payment, refunded).
 */
@Injectable()
export class RenewalsService {
  private readonly logger = new Logger('Renewals');

  constructor(
    private readonly config: AppConfig,
    private readonly repo: RenewalsRepository,
    private readonly orders: OrdersService,
    private readonly membership: MembershipService,
    private readonly deductions: AgreementDeductions,
    private readonly agreements: AgreementRegistry,
    private readonly events: EventEmitter2,
    private readonly metrics: MetricsService,
  ) {}

  /** Takes a claimed contract as far as `now` allows; returns when it waits (next_run_at set) or ended. */
  async runContract(start: RenewingContract, now: Date, tally: RenewalTally): Promise<void> {
    let c: RenewingContract | null = start;
    for (let i = 0; i < MAX_STEPS && c && (c.status === 'active' || c.status === 'past_due'); i++) {
      const cycle = c.next_renewal_at ? await this.repo.cycle(c.id, c.cycles_renewed + 1) : null;
      const step = nextStep(this.contractState(c), cycle && (await this.cycleState(cycle)), now, this.config.renewalRetryMax);
      if (step.step === 'wait') {
        await this.repo.setNextRun(c.id, step.until);
        return;
      }
      const waitFor = await this.take(c, cycle, step, now, tally);
      if (waitFor) {
        await this.repo.setNextRun(c.id, waitFor);
        return;
      }
      c = await this.repo.contract(c.id);
    }
    // Still stepping after MAX_STEPS: look again at once on the next run.
    if (c) await this.repo.setNextRun(c.id, now);
  }

  /** What runContract would do next for each due contract, changing nothing (`npm run renewals -- --dry-run`). */
  async plan(now: Date, limit: number): Promise<PlannedStep[]> {
    const out: PlannedStep[] = [];
    for (const c of await this.repo.due(now, limit)) {
      const cycle = c.next_renewal_at ? await this.repo.cycle(c.id, c.cycles_renewed + 1) : null;
      const step = nextStep(this.contractState(c), cycle && (await this.cycleState(cycle)), now, this.config.renewalRetryMax);
      out.push({
        contractNo: c.contract_no,
        provider: c.provider,
        cycle: c.cycles_renewed + 1,
        step: step.step,
        detail: step.step === 'wait' ? (step.until?.toISOString() ?? 'nothing to do') : step.step === 'lapse' ? step.reason : undefined,
      });
    }
    return out;
  }

  /** One step; returns when to look at the contract again if it must wait for something (a deduction's result). */
  private async take(c: RenewingContract, cycle: CycleRow | null, step: RenewalStep, now: Date, tally: RenewalTally): Promise<Date | null> {
    switch (step.step) {
      case 'init':
        // The first period is not bought yet (its payment's result, or the charge under a contract signed
        // first, is still to come): T is read from the ledger only once it is, or the first renewal would be
        // charged at once in its place.
        if (await this.firstOrderOpen(c)) return new Date(now.getTime() + RECHECK_MS);
        await this.repo.setFirstRenewal(c.id, await this.firstRenewalAt(c, now));
        return null;
      case 'open_cycle':
        await this.openCycle(c);
        return null;
      case 'advance':
        if (await this.advance(cycle!, now)) tally.renewed += 1;
        return null;
      case 'remind':
        if (await this.remind(c, cycle!, now)) tally.reminders += 1;
        return null;
      case 'notice':
        await this.notice(c, cycle!, now);
        tally.notices += 1;
        return null;
      case 'query':
        // A deduction in flight is queried by the job's deduction sweep on its own backoff (WeChat's
        // ACCEPT may take a day): the contract only looks again later. Its result, by notification or
        // query, settles the order (the order.paid listener advances the cycle) or fails the attempt
        // (the next look records the failure).
        return new Date(now.getTime() + IN_FLIGHT_RECHECK_MS);
      case 'record_failure': {
        const last = await this.deductions.lastOf(cycle!.order_id);
        await this.recordFailure(c, cycle!, last?.trade_state ?? 'FAILED', false, now, tally);
        return null;
      }
      case 'lapse':
        await this.lapse(c, cycle!, step.reason, now, tally);
        return null;
      case 'deduct':
        return this.deduct(c, cycle!, now, tally);
      case 'wait':
        return step.until;
    }
  }

  private contractState(c: RenewingContract) {
    return {
      provider: c.provider,
      nextRenewalAt: c.next_renewal_at,
      graceEndsAt: c.grace_ends_at,
      merchantNotice: this.agreements.find(c.provider)?.preDeductionNotice === 'merchant',
    };
  }

  private async cycleState(cycle: CycleRow): Promise<CycleState> {
    const [order, inFlight] = await Promise.all([this.orders.forCharge(cycle.order_id), this.deductions.openDeductionOf(cycle.order_id)]);
    return {
      status: cycle.status,
      tries: cycle.tries,
      nextTryAt: cycle.next_try_at,
      remindedAt: cycle.reminded_at,
      noticedAt: cycle.noticed_at,
      orderPaid: !!order && ['paid', 'partially_refunded', 'refunded'].includes(order.status),
      deductionInFlight: !!inFlight,
    };
  }

  private async firstOrderOpen(c: RenewingContract): Promise<boolean> {
    return !!c.first_order_id && (await this.orders.forCharge(c.first_order_id))?.status === 'pending';
  }

  /** T of the first cycle: the end of the member's paid time at the plan's level (now, when nothing is paid ahead). */
  private async firstRenewalAt(c: RenewingContract, now: Date): Promise<Date> {
    const plan = await this.membership.plan(c.plan_id);
    return (await this.membership.paidEnd(c.user_id, plan.level, now)) ?? now;
  }

  /** The cycle and its renewal order, under the contract's lock (created once, however many runners race). */
  private async openCycle(c: RenewingContract): Promise<void> {
    await this.repo.transaction(async (m) => {
      const locked = await this.repo.lockContract(m, c.id);
      if (!locked || !['active', 'past_due'].includes(locked.status) || !locked.next_renewal_at) return;
      const cycleNo = locked.cycles_renewed + 1;
      if (await this.repo.cycleExists(m, c.id, cycleNo)) return;
      const T = locked.next_renewal_at;
      const order = await this.orders.createRenewal(
        m,
        {
          userId: locked.user_id,
          planId: locked.plan_id,
          amountFen: locked.amount,
          method: locked.provider,
          expireAt: new Date(T.getTime() + (this.config.renewalGraceDays + ORDER_EXPIRY_AFTER_GRACE_DAYS) * DAY),
        },
        // The order is made now, whatever time the run acts as of (`--as-of` walks): its number and
        // created_at say when it was really created.
        new Date(),
      );
      await this.repo.insertCycle(m, { contractId: c.id, cycle: cycleNo, dueAt: T, orderId: order.orderId });
    });
  }

  /** membership.renewal_upcoming, once per cycle. */
  private async remind(c: RenewingContract, cycle: CycleRow, now: Date): Promise<boolean> {
    const [order, plan] = await Promise.all([this.orders.forCharge(cycle.order_id), this.membership.plan(c.plan_id)]);
    const payload: RenewalUpcomingPayload = {
      order_no: order!.order_no,
      plan_code: plan.code,
      amount: c.amount,
      charge_on: cycle.due_at.toISOString(),
      provider: c.provider,
    };
    return this.withEvent(
      (m) => this.repo.markReminded(m, cycle.id, now),
      cycle,
      c.user_id,
      order!.order_no,
      'membership.renewal_upcoming',
      { ...payload },
    );
  }

  /** The merchant's pre-deduction notice (WeChat Pay merchant templates); "already sent" counts as sent. */
  private async notice(c: RenewingContract, cycle: CycleRow, now: Date): Promise<void> {
    const adapter = this.agreements.find(c.provider);
    if (adapter && c.provider_contract_id) {
      await adapter.sendPreDeductionNotice({ contractId: c.provider_contract_id, contractNo: c.contract_no }, c.amount, 3);
    }
    await this.repo.markNoticed(cycle.id, now);
  }

  /** One try: counted first (so a crash never tries twice uncounted), then asked for with a new payment number. */
  private async deduct(c: RenewingContract, cycle: CycleRow, now: Date, tally: RenewalTally): Promise<Date | null> {
    if (!c.provider_contract_id) {
      await this.lapse(c, cycle, 'NO_PROVIDER_CONTRACT', now, tally);
      return null;
    }
    const order = await this.orders.forCharge(cycle.order_id);
    if (!order || !(await this.repo.startTry(cycle.id, cycle.tries))) return null;
    tally.deductions += 1;
    const done = await this.deductions.deduct(
      { orderId: order.id, method: c.provider, amountFen: c.amount, description: order.description },
      { contractId: c.provider_contract_id, contractNo: c.contract_no },
      now,
    );
    return this.afterDeduction(c, { ...cycle, tries: cycle.tries + 1, next_try_at: null }, done, now, tally);
  }

  private async afterDeduction(
    c: RenewingContract,
    cycle: CycleRow,
    done: DeductionOutcome,
    now: Date,
    tally: RenewalTally,
  ): Promise<Date | null> {
    switch (done.outcome) {
      case 'paid':
        // Counted when this deduction paid the cycle (its answer, or its notification arriving first:
        // then the answer finds it settled already); the order.paid listener may advance the contract
        // before this line does (advance() happens once, whoever comes first).
        if (done.applied.result !== 'double_payment') tally.renewed += 1;
        await this.advance(cycle, now);
        return null;
      case 'failed':
        await this.recordFailure(c, cycle, done.reason, done.contractEnded, now, tally);
        return null;
      case 'pending':
      case 'unknown':
        tally.pending += 1;
        return new Date(now.getTime() + RECHECK_MS);
      case 'busy':
        return null;
    }
  }

  /**
   * A try failed: past_due with grace until T + RENEWAL_GRACE_DAYS, membership.renewal_failed, the next try
   * the next day; after the last try (or when the provider says the contract is over) the contract lapses.
   */
  private async recordFailure(
    c: RenewingContract,
    cycle: CycleRow,
    reason: string,
    contractEnded: boolean,
    now: Date,
    tally: RenewalTally,
  ): Promise<void> {
    const last = contractEnded || cycle.tries >= this.config.renewalRetryMax;
    const T = cycle.due_at;
    const graceEndsAt = c.grace_ends_at ?? new Date(T.getTime() + this.config.renewalGraceDays * DAY);
    const nextTry = last ? null : nextTryAfter(now);
    const order = await this.orders.forCharge(cycle.order_id);
    const plan = await this.membership.plan(c.plan_id);
    const payload: RenewalFailedPayload = {
      order_no: order!.order_no,
      plan_code: plan.code,
      amount: c.amount,
      reason,
      tries: cycle.tries,
      next_try_at: nextTry && nextTry < graceEndsAt ? nextTry.toISOString() : null,
      grace_ends_at: graceEndsAt.toISOString(),
    };
    const recorded = await this.withEvent(
      async (m) => {
        // The last try's failure still records a next_try_at (now): the schedule then sees no try left.
        if (!(await this.repo.recordFailure(m, cycle.id, cycle.tries, reason, nextTry ?? now))) return false;
        await this.repo.pastDue(m, c.id, graceEndsAt);
        return true;
      },
      cycle,
      c.user_id,
      order!.order_no,
      'membership.renewal_failed',
      { ...payload },
    );
    if (!recorded) return;
    tally.declined += 1;
    this.logger.warn(`contract ${c.contract_no} cycle ${cycle.cycle}: try ${cycle.tries} declined (${reason})`);
    if (last) await this.lapse(c, cycle, contractEnded ? reason : 'RETRIES_EXHAUSTED', now, tally);
  }

  /**
   * Renewals failed past the grace: the contract is terminated at the provider, then recorded lapsed with
   * membership.auto_renew_lapsed, and the cycle's order is closed (a deduction that still succeeds is
   * returned as a double payment). The provider's unsign notification of this termination may record the
   * end first (as a cancel): the lapse is recorded over it.
   */
  private async lapse(c: RenewingContract, cycle: CycleRow, reason: string, now: Date, tally: RenewalTally): Promise<void> {
    const startedAt = new Date();
    const adapter = this.agreements.find(c.provider);
    if (adapter && c.provider_contract_id) {
      await adapter.terminate({ contractId: c.provider_contract_id, contractNo: c.contract_no }, '自动续费扣款失败，协议已终止');
    }
    const order = await this.orders.forCharge(cycle.order_id);
    const plan = await this.membership.plan(c.plan_id);
    const payload: AutoRenewLapsedPayload = { order_no: order!.order_no, plan_code: plan.code, reason, at: now.toISOString() };
    const lapsed = await this.withEvent(
      async (m) => {
        if (!(await this.repo.lapse(m, c.id, now, startedAt))) return false;
        await this.repo.failCycle(m, cycle.id);
        return true;
      },
      cycle,
      c.user_id,
      order!.order_no,
      'membership.auto_renew_lapsed',
      { ...payload },
    );
    if (!lapsed) return;
    tally.lapsed += 1;
    this.logger.warn(`contract ${c.contract_no} lapsed (${reason})`);
    await this.orders.end(cycle.order_id, 'closed', now);
  }

  /**
   * The cycle's order was paid (by the job's deduction, its query, a notification or reconciliation):
   * the cycle is paid once, the contract active again with the next T (the member's new paid end), and
   * membership.renewed (with membership.renewal_recovered after a failure). True when this call did it.
   */
  async advance(cycle: CycleRow, now: Date): Promise<boolean> {
    const c = await this.repo.contract(cycle.contract_id);
    if (!c) return false;
    const plan = await this.membership.plan(c.plan_id);
    const paidEnd = await this.membership.paidEnd(c.user_id, plan.level, now);
    const next = paidEnd && paidEnd > cycle.due_at ? paidEnd : new Date(cycle.due_at.getTime() + plan.durationDays * DAY);
    const order = await this.orders.forCharge(cycle.order_id);
    const announced: CommittedOrderEvent[] = [];
    await this.repo.transaction(async (m) => {
      const locked = await this.repo.lockContract(m, c.id);
      if (!locked || !(await this.repo.endCycle(m, cycle.id, 'paid'))) return;
      const recovered = locked.status === 'past_due';
      // Looked at again when the next cycle's reminder is due (nextStep waits until then for a cycle not
      // yet open): due at once, a pass still running would claim it a second time only to learn that.
      await this.repo.renewed(m, c.id, next, new Date(Math.max(now.getTime(), next.getTime() - REMINDER_LEAD_MS)));
      const payload: RenewedPayload = {
        order_no: order!.order_no,
        plan_code: plan.code,
        amount: c.amount,
        cycle: cycle.cycle,
        recovered,
        next_renewal_at: next.toISOString(),
      };
      announced.push(await appendOrderEvent(m, cycle.order_id, c.user_id, order!.order_no, 'membership.renewed', { ...payload }));
      if (recovered)
        announced.push(
          await appendOrderEvent(m, cycle.order_id, c.user_id, order!.order_no, 'membership.renewal_recovered', { ...payload }),
        );
    });
    if (!announced.length) return false;
    this.events.emit(ORDER_EVENTS_COMMITTED, announced);
    this.logger.log(`contract ${c.contract_no} renewed: cycle ${cycle.cycle}, next renewal ${next.toISOString()}`);
    return true;
  }

  /**
   * The contract ended (cancelled by the member, support or the provider): its open cycle is abandoned
   * and the cycle's order closed, so a deduction that succeeds later is returned. An order paid first
   * stays paid: that cycle was bought, and is advanced.
   */
  async abandonOpenCycle(contractId: string, now = new Date()): Promise<void> {
    const cycle = await this.repo.openCycleOf(contractId);
    if (!cycle) return;
    if (await this.orders.end(cycle.order_id, 'closed', now)) {
      await this.repo.transaction((m) => this.repo.endCycle(m, cycle.id, 'abandoned'));
      return;
    }
    const order = await this.orders.forCharge(cycle.order_id);
    if (order && ['paid', 'partially_refunded', 'refunded'].includes(order.status)) await this.advance(cycle, now);
  }

  /**
   * A renewal order paid by any path (this instance's settlements): its cycle advances at once. Only
   * events the settlement marked with a renewal order are looked at, so a member's purchase costs no
   * query here; one that comes without the mark (relayed from elsewhere) is advanced by the next
   * renewal run, which finds its order paid.
   */
  @OnEvent(ORDER_EVENTS_COMMITTED, { async: true, promisify: true, suppressErrors: true })
  async onCommitted(events: CommittedOrderEvent[]): Promise<void> {
    for (const e of events) {
      if (e.type !== 'order.paid' || e.order?.source !== 'renewal') continue;
      try {
        const cycle = await this.repo.cycleOfOrder(e.order.id);
        if (cycle && cycle.status === 'open') await this.advance(cycle, new Date());
      } catch (err) {
        this.logger.warn(
          `renewal order ${e.orderNo} paid; its cycle is advanced by the next renewal run (${(err as Error)?.message ?? err})`,
        );
      }
    }
  }

  /** The gauges: contracts by provider and status, renewals due (within a day) and late (T passed). */
  async refreshGauges(now: Date): Promise<void> {
    this.metrics.contracts.reset();
    for (const r of await this.repo.countsByState()) this.metrics.contracts.set({ provider: r.provider, status: r.status }, r.count);
    const { due, late } = await this.repo.dueAndLate(now, DAY);
    this.metrics.renewalsDue.set({ state: 'due' }, due);
    this.metrics.renewalsDue.set({ state: 'late' }, late);
  }

  /** A change and its outbox event in one transaction; the event announced after commit, only when the change happened. */
  private async withEvent(
    change: (m: EntityManager) => Promise<boolean>,
    cycle: CycleRow,
    userId: string,
    orderNo: string,
    type: OrderEventType,
    payload: Record<string, unknown>,
  ): Promise<boolean> {
    const event = await this.repo.transaction(async (m) =>
      (await change(m)) ? appendOrderEvent(m, cycle.order_id, userId, orderNo, type, payload) : null,
    );
    if (event) this.events.emit(ORDER_EVENTS_COMMITTED, [event]);
    return !!event;
  }
}
