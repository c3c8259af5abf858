import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error';
import { ERROR_CODES, ErrorCode } from '../../common/errors/error-codes';
import { IdempotencyKey } from './idempotency-key.entity';
import { IdempotencyKeysRepository } from './idempotency-keys.repository';

const WINDOW_MS = 24 * 3600_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
/** Seed of the keys' advisory lock ids, apart from the other advisory locks (order events use 0). */
const LOCK_SEED = 17;
/**
 * Keyed requests holding a transaction at once, per process. Each holds a pooled connection while
 * the request itself reads through others (pricing, the membership): capped well under the pool
 * (20), so those reads always find a free connection and keyed requests cannot starve each other.
 */
const MAX_HELD = 8;

export interface IdempotentResult {
  status: number;
  /** The answer's body as sent the first time (JSON text): a replay sends these very bytes. */
  text: string;
  replayed: boolean;
}

/**
 * A keyed request whose effect must commit before its answer is known: a refund is recorded, and
 * committed, before its provider is called, so that a crash during the call leaves a refund the
 * job can finish under the same number. Its key commits with that record, naming it (`resource`).
 */
export interface RecordedRequest {
  /** Makes the effect on the key's transaction; returns what names it (e.g. the refund_no). */
  record(m: EntityManager): Promise<string>;
  /** Carries the recorded effect on (calls the provider) and returns the answer's body. */
  finish(resource: string): Promise<unknown>;
  /** The answer for a retry that finds the effect recorded but never answered (the first request died). */
  resume(resource: string): Promise<unknown>;
}

interface StoredError {
  code: ErrorCode;
  message: string;
  details?: string[];
}

/** A refusal as it is kept for replay: its code, message and details, never a stack. */
const storedError = (e: DomainError): StoredError => ({ code: e.code, message: e.message, details: e.details });

/**
 * Idempotency-Key as Stripe does it: the same user and key within 24 hours replays the first
 * answer (status and body, byte for byte); the same key with another body, or while the first
 * request is still running, is a 409. Answers of 5xx are not kept, so a retry after a provider
 * outage can try again.
 *
 * The request runs inside one transaction that also stores its answer: the order and the key
 * commit together or not at all, so a crash in between can neither leave an order whose key
 * lets a retry create a second one, nor a key that blocks retries. A transaction-scoped advisory
 * lock on (user, key) marks the request in flight; it ends with the transaction, or with the
 * connection when the process dies, so a retry after a crash runs at once. The price is a pooled
 * connection held across the provider call (bounded by PROVIDER_TIMEOUT_MS), for requests that
 * carry a key only.
 */
@Injectable()
export class IdempotencyService {
  private held = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: IdempotencyKeysRepository,
  ) {}

  async run<T>(
    userId: string,
    key: string,
    request: unknown,
    status: number,
    fn: (m: EntityManager) => Promise<T>,
  ): Promise<IdempotentResult> {
    return this.admitted(key, request, (requestHash) => this.runHeld(userId, key, requestHash, status, fn));
  }

  /**
   * Like run, for a request whose effect commits before its answer is known (see RecordedRequest).
   * The effect and the key (status `recorded`) commit in one transaction; the answer is stored when
   * known. A retry that finds the key recorded without an answer (the first request died after the
   * commit) answers with the recorded effect as it stands, and never makes a second one. A session
   * advisory lock on (user, key) marks the request in flight across both steps; it ends with the
   * request, or with the connection when the process dies.
   */
  async runRecorded(userId: string, key: string, request: unknown, status: number, steps: RecordedRequest): Promise<IdempotentResult> {
    return this.admitted(key, request, (requestHash) => this.runRecordedHeld(userId, key, requestHash, status, steps));
  }

  /**
   * What both kinds of keyed request share: the key checked, the request hashed, and one of the
   * MAX_HELD slots held while it runs (each holds a database connection of its own).
   */
  private async admitted(
    key: string,
    request: unknown,
    work: (requestHash: string) => Promise<IdempotentResult>,
  ): Promise<IdempotentResult> {
    if (!KEY_PATTERN.test(key)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['Idempotency-Key must be 1 to 255 printable ASCII characters']);
    }
    const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
    if (this.held >= MAX_HELD) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held += 1;
    try {
      return await work(requestHash);
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on as it is
      else this.held -= 1;
    }
  }

  private async runRecordedHeld(
    userId: string,
    key: string,
    requestHash: string,
    status: number,
    steps: RecordedRequest,
  ): Promise<IdempotentResult> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const m = runner.manager;
    let locked = false;
    try {
      locked = await this.keys.tryLockSession(m, userId, key, LOCK_SEED);
      if (!locked)
        throw new DomainError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed; retry later');
      let recorded: { id: string; resource: string; replayed: boolean };
      await runner.startTransaction();
      try {
        const existing = await this.keys.find(m, userId, key);
        if (existing && (Date.now() - existing.createdAt.getTime() > WINDOW_MS || existing.status === 'in_flight')) {
          await this.keys.remove(m, existing.id);
        } else if (existing && existing.status === 'done') {
          await runner.commitTransaction();
          return replay(existing, requestHash);
        }
        if (existing && existing.status === 'recorded') {
          if (existing.requestHash !== requestHash) {
            throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body');
          }
          recorded = { id: existing.id, resource: existing.resource!, replayed: true };
        } else {
          let resource: string;
          try {
            resource = await steps.record(m);
          } catch (e) {
            await runner.rollbackTransaction();
            if (e instanceof DomainError && ERROR_CODES[e.code] < 500) await this.storeRefusal(userId, key, requestHash, e);
            throw e;
          }
          recorded = { id: await this.keys.storeRecorded(m, { userId, key, requestHash, resource }), resource, replayed: false };
        }
        await runner.commitTransaction();
      } finally {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      }
      let body: unknown;
      try {
        body = recorded.replayed ? await steps.resume(recorded.resource) : await steps.finish(recorded.resource);
      } catch (e) {
        // A refusal after the record (the provider said no) is the answer; anything else leaves the
        // key recorded, and a retry answers with the record as it then stands.
        if (e instanceof DomainError && ERROR_CODES[e.code] < 500) {
          await this.keys.answer(m, recorded.id, ERROR_CODES[e.code], JSON.stringify(storedError(e)));
        }
        throw e;
      }
      const text = JSON.stringify(body);
      await this.keys.answer(m, recorded.id, status, text);
      return { status, text, replayed: recorded.replayed };
    } finally {
      // An unlock that fails has lost its connection, and the lock went with it.
      if (locked) await this.keys.unlockSession(m, userId, key, LOCK_SEED).catch(() => undefined);
      await runner.release();
    }
  }

  private async storeRefusal(userId: string, key: string, requestHash: string, e: DomainError): Promise<void> {
    await this.keys.storeRefusal({
      userId,
      key,
      requestHash,
      responseStatus: ERROR_CODES[e.code],
      responseBody: JSON.stringify(storedError(e)),
    });
  }

  private async runHeld<T>(
    userId: string,
    key: string,
    requestHash: string,
    status: number,
    fn: (m: EntityManager) => Promise<T>,
  ): Promise<IdempotentResult> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let open = false;
    try {
      await runner.startTransaction();
      open = true;
      const m = runner.manager;
      if (!(await this.keys.tryLock(m, userId, key, LOCK_SEED)))
        throw new DomainError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed; retry later');
      const existing = await this.keys.find(m, userId, key);
      // 'in_flight' rows predate answers stored with their order: under the lock, any is abandoned.
      if (existing && (Date.now() - existing.createdAt.getTime() > WINDOW_MS || existing.status === 'in_flight')) {
        await this.keys.remove(m, existing.id);
      } else if (existing) {
        await runner.commitTransaction();
        open = false;
        return replay(existing, requestHash);
      }
      let body: T;
      try {
        body = await fn(m);
      } catch (e) {
        await runner.rollbackTransaction();
        open = false;
        if (e instanceof DomainError && ERROR_CODES[e.code] < 500) {
          // A refusal is an answer too (the order was never made): remembered like one.
          await this.storeRefusal(userId, key, requestHash, e);
        }
        throw e;
      }
      const text = JSON.stringify(body);
      await this.keys.store(m, { userId, key, requestHash, responseStatus: status, responseBody: text });
      await runner.commitTransaction();
      open = false;
      return { status, text, replayed: false };
    } finally {
      if (open) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
  }
}

function replay(existing: IdempotencyKey, requestHash: string): IdempotentResult {
  if (existing.requestHash !== requestHash) {
    throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body');
  }
  if (existing.responseStatus! >= 400) {
    const stored = JSON.parse(existing.responseBody!) as StoredError;
    throw new DomainError(stored.code, stored.message, stored.details);
  }
  return { status: existing.responseStatus!, text: existing.responseBody!, replayed: true };
}

/** JSON with sorted keys, so {"a":1,"b":2} and {"b":2,"a":1} are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
