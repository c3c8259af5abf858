import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import type { ProviderName } from '../payments/provider-name';
import type { ContractEndedBy, ContractStatus } from './contract.entity';

export interface NewContract {
  contractNo: string;
  userId: string;
  provider: ProviderName;
  planId: number;
  amountFen: number;
  /** The order it is signed with (its first period), when bought with auto-renewal. */
  firstOrderId?: string | null;
}

/** A contract row as the service reads it. */
export interface ContractRow {
  id: string;
  contract_no: string;
  user_id: string;
  provider: ProviderName;
  plan_id: number;
  amount: number;
  status: ContractStatus;
  provider_contract_id: string | null;
  signed_at: Date | null;
  ended_at: Date | null;
  ended_by: ContractEndedBy | null;
  first_order_id: string | null;
}

/** A member already has an open contract (UQ_contracts_one_open_per_member). */
export class OpenContractExists extends Error {}

const COLUMNS =
  'id, contract_no, user_id, provider, plan_id, amount, status, provider_contract_id, signed_at, ended_at, ended_by, first_order_id';
const OPEN = `status IN ('pending', 'active', 'past_due')`;
const RETURNED = COLUMNS.split(', ')
  .map((c) => `c.${c}`)
  .join(', ');

/** Every query on the contracts table (the subscriptions module owns it). Services hold the rules. */
@Injectable()
export class ContractsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** On the caller's transaction when given (an order and its contract commit together). */
  async insertPending(c: NewContract, m: EntityManager = this.dataSource.manager): Promise<ContractRow> {
    try {
      const [row] = (await m.query(
        `INSERT INTO contracts (contract_no, user_id, provider, plan_id, amount, first_order_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [c.contractNo, c.userId, c.provider, c.planId, c.amountFen, c.firstOrderId ?? null],
      )) as ContractRow[];
      return row;
    } catch (e) {
      if (e instanceof QueryFailedError && (e.driverError as { constraint?: string })?.constraint === 'UQ_contracts_one_open_per_member') {
        throw new OpenContractExists('the member has an open contract');
      }
      throw e;
    }
  }

  /** The contract an order belongs to: the one it was bought with, or the one whose renewal cycle it pays. */
  async ofOrder(orderId: string): Promise<(ContractRow & { renewal_cycle: number | null }) | null> {
    const [row] = (await this.dataSource.query(
      `SELECT ${COLUMNS.split(', ')
        .map((c) => `c.${c}`)
        .join(', ')}, rc.cycle AS renewal_cycle
         FROM contracts c LEFT JOIN renewal_cycles rc ON rc.contract_id = c.id AND rc.order_id = $1
        WHERE c.first_order_id = $1 OR rc.order_id IS NOT NULL
        LIMIT 1`,
      [orderId],
    )) as (ContractRow & { renewal_cycle: number | null })[];
    return row ?? null;
  }

  async findByNo(contractNo: string): Promise<ContractRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM contracts WHERE contract_no = $1`, [contractNo])) as ContractRow[];
    return row ?? null;
  }

  /** The member's open contract (pending, active or past_due), if any. */
  async openOfUser(userId: string, m: EntityManager = this.dataSource.manager): Promise<ContractRow | null> {
    const [row] = (await m.query(`SELECT ${COLUMNS} FROM contracts WHERE user_id = $1 AND ${OPEN}`, [userId])) as ContractRow[];
    return row ?? null;
  }

  /**
   * The contract each member sees: the open one, else the latest that was signed (a contract released
   * unsigned, its order never paid, is not shown). Members without one are absent.
   */
  async shownOfUsers(userIds: readonly string[]): Promise<(ContractRow & { grace_ends_at: Date | null })[]> {
    if (!userIds.length) return [];
    return (await this.dataSource.query(
      `SELECT DISTINCT ON (user_id) ${COLUMNS}, grace_ends_at FROM contracts
        WHERE user_id = ANY($1) AND (${OPEN} OR signed_at IS NOT NULL)
        ORDER BY user_id, (${OPEN}) DESC, created_at DESC`,
      [userIds],
    )) as (ContractRow & { grace_ends_at: Date | null })[];
  }

  /**
   * The order's contract, still pending (never signed), → cancelled by us, on the order's transaction:
   * the order ended unpaid. Null when there was none to release.
   */
  async releaseByOrder(m: EntityManager, orderId: string, endedAt: Date): Promise<ContractRow | null> {
    const [rows] = (await m.query(
      `UPDATE contracts SET status = 'cancelled', ended_at = $2, ended_by = 'merchant', updated_at = now()
        WHERE first_order_id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [orderId, endedAt],
    )) as [ContractRow[], number];
    return rows[0] ?? null;
  }

  /** The member's most recent contract, open or not. */
  async latestOfUser(userId: string): Promise<ContractRow | null> {
    const [row] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM contracts WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1`, [
      userId,
    ])) as ContractRow[];
    return row ?? null;
  }

  /**
   * pending → active, once: the row that moved, or null when it was not pending (signed already, ended,
   * or not ours). A provider id already held by another contract is a conflict the unique index refuses.
   */
  async activate(provider: ProviderName, contractNo: string, providerContractId: string, signedAt: Date): Promise<ContractRow | null> {
    const [rows] = (await this.dataSource.query(
      // next_run_at cleared: a lease the signing sweep held on it while pending must not delay the renewal job.
      `UPDATE contracts SET status = 'active', provider_contract_id = $3, signed_at = $4, next_run_at = NULL, updated_at = now()
        WHERE contract_no = $1 AND provider = $2 AND status = 'pending' RETURNING ${COLUMNS}`,
      [contractNo, provider, providerContractId, signedAt],
    )) as [ContractRow[], number];
    return rows[0] ?? null;
  }

  /**
   * An open contract → cancelled, once: the row that moved, or null when it was over already.
   * `first` runs before, while the open row is held (the provider told of our ending): the provider's
   * own notice of that ending (WeChat's DELETE callback, Alipay's dut_user_unsign) waits on the row and
   * then finds it over, so the ending is recorded once, as ours; when `first` throws nothing changes.
   * `then` runs in the same transaction once the row moved (the audit entry of support's cancel), so
   * the change and its record commit together or not at all.
   */
  async end(
    provider: ProviderName,
    contractNo: string,
    by: ContractEndedBy,
    endedAt: Date,
    hooks: { first?: () => Promise<unknown>; then?: (m: EntityManager, row: ContractRow) => Promise<unknown> } = {},
  ): Promise<ContractRow | null> {
    const endIn = async (m: EntityManager) => {
      if (hooks.first) {
        const [open] = (await m.query(
          `SELECT id FROM contracts WHERE contract_no = $1 AND provider = $2 AND status IN ('pending', 'active', 'past_due') FOR UPDATE`,
          [contractNo, provider],
        )) as { id: string }[];
        if (!open) return null;
        await hooks.first();
      }
      const [rows] = (await m.query(
        `UPDATE contracts SET status = 'cancelled', ended_at = $4, ended_by = $3, updated_at = now()
          WHERE contract_no = $1 AND provider = $2 AND status IN ('pending', 'active', 'past_due') RETURNING ${COLUMNS}`,
        [contractNo, provider, by, endedAt],
      )) as [ContractRow[], number];
      const row = rows[0] ?? null;
      if (row && hooks.then) await hooks.then(m, row);
      return row;
    };
    return hooks.first || hooks.then ? this.dataSource.transaction(endIn) : endIn(this.dataSource.manager);
  }

  /**
   * The signing sweep's claim: contracts whose signing went unconfirmed since `olderThan` — still pending
   * (the provider's signing notification never came), or active with their first order and not yet seen by
   * the renewal job (a first period that may never have been charged) — claimed as the renewal job claims
   * due contracts (FOR UPDATE SKIP LOCKED, next_run_at to the end of a lease), so any number of instances
   * sweep at once and each contract is worked on by one.
   */
  async claimUnconfirmed(now: Date, olderThan: Date, limit: number, leaseUntil: Date): Promise<ContractRow[]> {
    const [rows] = (await this.dataSource.query(
      `WITH due AS (
         SELECT id FROM contracts
          WHERE ((status = 'pending' AND created_at <= $2)
              OR (status = 'active' AND first_order_id IS NOT NULL AND next_renewal_at IS NULL AND signed_at <= $2))
            AND (next_run_at IS NULL OR next_run_at <= $1)
          ORDER BY next_run_at NULLS FIRST, created_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       UPDATE contracts c SET next_run_at = $4 FROM due WHERE c.id = due.id RETURNING ${RETURNED}`,
      [now, olderThan, limit, leaseUntil],
    )) as [ContractRow[], number];
    return rows;
  }

  /** When the renewal job (or the signing sweep) looks at the contract next; null: at once. */
  async setNextRun(id: string, at: Date | null): Promise<void> {
    await this.dataSource.query(`UPDATE contracts SET next_run_at = $2 WHERE id = $1`, [id, at]);
  }

  /**
   * A contract never confirmed ends while still pending, once: released by us (`merchant`: never signed and
   * its order over) or found ended at the provider (`provider`, with the provider's id and signing time).
   * Null when it was not pending any more (a late signing notification came first: it decides).
   */
  async endPending(
    contractNo: string,
    by: ContractEndedBy,
    endedAt: Date,
    signed?: { providerContractId: string; signedAt: Date | null },
  ): Promise<ContractRow | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE contracts SET status = 'cancelled', ended_at = $2, ended_by = $3, provider_contract_id = COALESCE($4, provider_contract_id),
              signed_at = COALESCE($5, signed_at), next_run_at = NULL, updated_at = now()
        WHERE contract_no = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
      [contractNo, endedAt, by, signed?.providerContractId ?? null, signed?.signedAt ?? null],
    )) as [ContractRow[], number];
    return rows[0] ?? null;
  }
}
