import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { ContractRow } from './contracts.repository';
import type { RenewalCycleStatus } from './renewal-cycle.entity';

/** A contract as the renewal job reads it: the row the service reads, with the renewal columns instead of the ending's. */
export interface RenewingContract extends Pick<
  ContractRow,
  'id' | 'contract_no' | 'user_id' | 'provider' | 'plan_id' | 'amount' | 'status' | 'provider_contract_id' | 'first_order_id'
> {
  next_renewal_at: Date | null;
  grace_ends_at: Date | null;
  cycles_renewed: number;
}

export interface CycleRow {
  id: string;
  contract_id: string;
  cycle: number;
  due_at: Date;
  order_id: string;
  status: RenewalCycleStatus;
  tries: number;
  next_try_at: Date | null;
  last_failure: string | null;
  reminded_at: Date | null;
  noticed_at: Date | null;
}

const CONTRACT = `id, contract_no, user_id, provider, plan_id, amount, status, provider_contract_id, next_renewal_at, grace_ends_at, cycles_renewed, first_order_id`;
const CYCLE = `id, contract_id, cycle, due_at, order_id, status, tries, next_try_at, last_failure, reminded_at, noticed_at`;
const OPEN = `('active', 'past_due')`;

/**
 * The renewal job's statements: renewal_cycles and the contracts' renewal columns (the subscriptions
 * module owns both). A run claims due contracts with `FOR UPDATE SKIP LOCKED` and moves next_run_at to
 * the end of a lease in the same statement, as the payments and refunds jobs claim their rows: other
 * instances skip them while the providers are called outside any transaction, and a crashed instance's
 * claim lapses with its lease. Every step is also a conditional UPDATE, so one that ran twice changes once.
 */
@Injectable()
export class RenewalsRepository {
  constructor(private readonly dataSource: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** Open contracts due now (or never looked at), claimed until `leaseUntil`. */
  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<RenewingContract[]> {
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM contracts WHERE status IN ${OPEN} AND (next_run_at IS NULL OR next_run_at <= $1)
          ORDER BY next_run_at NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE contracts c SET next_run_at = $3 FROM due WHERE c.id = due.id
       RETURNING c.id, c.contract_no, c.user_id, c.provider, c.plan_id, c.amount, c.status, c.provider_contract_id,
                 c.next_renewal_at, c.grace_ends_at, c.cycles_renewed, c.first_order_id`,
      [now, limit, leaseUntil],
    )) as [RenewingContract[], number];
    return rows;
  }

  /** Open contracts due now, read without a claim (the dry run). */
  async due(now: Date, limit: number): Promise<RenewingContract[]> {
    return (await this.dataSource.query(
      `SELECT ${CONTRACT} FROM contracts WHERE status IN ${OPEN} AND (next_run_at IS NULL OR next_run_at <= $1)
        ORDER BY next_run_at NULLS FIRST LIMIT $2`,
      [now, limit],
    )) as RenewingContract[];
  }

  async contract(id: string): Promise<RenewingContract | null> {
    const [row] = (await this.dataSource.query(`SELECT ${CONTRACT} FROM contracts WHERE id = $1`, [id])) as RenewingContract[];
    return row ?? null;
  }

  /** Locks the contract for a change of its cycle (to the end of the transaction). */
  async lockContract(m: EntityManager, id: string): Promise<RenewingContract | null> {
    const [row] = (await m.query(`SELECT ${CONTRACT} FROM contracts WHERE id = $1 FOR UPDATE`, [id])) as RenewingContract[];
    return row ?? null;
  }

  /** When the job next looks at the contract (null: only when something else sets it). */
  async setNextRun(id: string, at: Date | null): Promise<void> {
    await this.dataSource.query(`UPDATE contracts SET next_run_at = $2 WHERE id = $1`, [id, at]);
  }

  /** T of the first cycle, once. */
  async setFirstRenewal(id: string, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE contracts SET next_renewal_at = $2, updated_at = now() WHERE id = $1 AND next_renewal_at IS NULL`, [
      id,
      at,
    ]);
  }

  async cycle(contractId: string, cycle: number): Promise<CycleRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${CYCLE} FROM renewal_cycles WHERE contract_id = $1 AND cycle = $2`, [
      contractId,
      cycle,
    ])) as CycleRow[];
    return row ?? null;
  }

  async cycleById(id: string): Promise<CycleRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${CYCLE} FROM renewal_cycles WHERE id = $1`, [id])) as CycleRow[];
    return row ?? null;
  }

  async cycleOfOrder(orderId: string): Promise<CycleRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${CYCLE} FROM renewal_cycles WHERE order_id = $1`, [orderId])) as CycleRow[];
    return row ?? null;
  }

  async openCycleOf(contractId: string): Promise<CycleRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${CYCLE} FROM renewal_cycles WHERE contract_id = $1 AND status = 'open'`, [
      contractId,
    ])) as CycleRow[];
    return row ?? null;
  }

  /** The cycle with its order, on the caller's transaction (the contract locked). */
  async insertCycle(m: EntityManager, c: { contractId: string; cycle: number; dueAt: Date; orderId: string }): Promise<void> {
    await m.query(`INSERT INTO renewal_cycles (contract_id, cycle, due_at, order_id) VALUES ($1, $2, $3, $4)`, [
      c.contractId,
      c.cycle,
      c.dueAt,
      c.orderId,
    ]);
  }

  /** The reminder of the cycle, once: true when this call recorded it. */
  async markReminded(m: EntityManager, cycleId: string, at: Date): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE renewal_cycles SET reminded_at = $2, updated_at = now() WHERE id = $1 AND reminded_at IS NULL RETURNING id`,
      [cycleId, at],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async markNoticed(cycleId: string, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE renewal_cycles SET noticed_at = $2, updated_at = now() WHERE id = $1 AND noticed_at IS NULL`, [
      cycleId,
      at,
    ]);
  }

  /**
   * Counts a try before it is asked for: the cycle had `triesBefore` tries and was open. next_try_at goes
   * to null, meaning "a try's result is awaited"; a failure sets it to the next allowed day.
   */
  async startTry(cycleId: string, triesBefore: number): Promise<boolean> {
    const [rows] = (await this.dataSource.query(
      `UPDATE renewal_cycles SET tries = tries + 1, next_try_at = NULL, updated_at = now()
        WHERE id = $1 AND tries = $2 AND status = 'open' RETURNING id`,
      [cycleId, triesBefore],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /** The last try's failure, once (the cycle still awaiting that try's result). */
  async recordFailure(m: EntityManager, cycleId: string, tries: number, reason: string, nextTryAt: Date | null): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE renewal_cycles SET last_failure = $3, next_try_at = $4, updated_at = now()
        WHERE id = $1 AND tries = $2 AND next_try_at IS NULL AND status = 'open' RETURNING id`,
      [cycleId, tries, reason.slice(0, 64), nextTryAt],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /** An open cycle ends: paid, failed (lapsed) or abandoned (the contract ended first). True when this call moved it. */
  async endCycle(m: EntityManager, cycleId: string, status: Exclude<RenewalCycleStatus, 'open'>): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE renewal_cycles SET status = $2, updated_at = now() WHERE id = $1 AND status = 'open' RETURNING id`,
      [cycleId, status],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  /** The lapsed contract's cycle: failed, whether still open or abandoned when the unsign notification came first. */
  async failCycle(m: EntityManager, cycleId: string): Promise<void> {
    await m.query(`UPDATE renewal_cycles SET status = 'failed', updated_at = now() WHERE id = $1 AND status IN ('open', 'abandoned')`, [
      cycleId,
    ]);
  }

  async pastDue(m: EntityManager, contractId: string, graceEndsAt: Date): Promise<void> {
    await m.query(
      `UPDATE contracts SET status = 'past_due', grace_ends_at = COALESCE(grace_ends_at, $2), updated_at = now()
        WHERE id = $1 AND status IN ${OPEN}`,
      [contractId, graceEndsAt],
    );
  }

  /** A cycle paid: the next one's T, back to active, looked at again at `nextRunAt`. */
  async renewed(m: EntityManager, contractId: string, nextRenewalAt: Date, nextRunAt: Date): Promise<void> {
    await m.query(
      `UPDATE contracts SET cycles_renewed = cycles_renewed + 1, next_renewal_at = $2, grace_ends_at = NULL, next_run_at = $3,
              status = CASE WHEN status IN ${OPEN} THEN 'active' ELSE status END, updated_at = now()
        WHERE id = $1`,
      [contractId, nextRenewalAt, nextRunAt],
    );
  }

  /**
   * Renewals failed past the grace: lapsed, once (true when this call moved it). The provider's unsign
   * notification of our own termination may have recorded the contract as cancelled since
   * `terminatedFrom` (Alipay's does not say who ended it): the lapse is recorded over that.
   */
  async lapse(m: EntityManager, contractId: string, at: Date, terminatedFrom: Date): Promise<boolean> {
    const [rows] = (await m.query(
      `UPDATE contracts SET status = 'lapsed', ended_at = $2, ended_by = 'merchant', next_run_at = NULL, updated_at = now()
        WHERE id = $1 AND (status IN ${OPEN} OR (status = 'cancelled' AND updated_at >= $3)) RETURNING id`,
      [contractId, at, terminatedFrom],
    )) as [unknown[], number];
    return rows.length > 0;
  }

  async cycleExists(m: EntityManager, contractId: string, cycle: number): Promise<boolean> {
    const rows = (await m.query(`SELECT 1 FROM renewal_cycles WHERE contract_id = $1 AND cycle = $2`, [contractId, cycle])) as unknown[];
    return rows.length > 0;
  }

  /** Contracts by provider and status, for the gauge. */
  async countsByState(): Promise<{ provider: string; status: string; count: number }[]> {
    const rows = (await this.dataSource.query(`SELECT provider, status, count(*)::int AS count FROM contracts GROUP BY 1, 2`)) as {
      provider: string;
      status: string;
      count: number;
    }[];
    return rows;
  }

  /** Open contracts with their renewal due within `leadMs` of `now` (or past), and of them those whose T has passed. */
  async dueAndLate(now: Date, leadMs: number): Promise<{ due: number; late: number }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE next_renewal_at <= $1::timestamptz + make_interval(secs => $2::double precision / 1000))::int AS due,
              count(*) FILTER (WHERE next_renewal_at <= $1)::int AS late
         FROM contracts WHERE status IN ${OPEN}`,
      [now, leadMs],
    )) as { due: number; late: number }[];
    return row;
  }
}
