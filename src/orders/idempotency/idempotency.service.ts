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

interface StoredError {
  code: ErrorCode;
  message: string;
  details?: string[];
}

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
    if (!KEY_PATTERN.test(key)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['Idempotency-Key must be 1 to 255 printable ASCII characters']);
    }
    const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
    if (this.held >= MAX_HELD) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.held += 1;
    try {
      return await this.runHeld(userId, key, requestHash, status, fn);
    } finally {
      const next = this.waiting.shift();
      if (next)
        next(); // the slot passes on as it is
      else this.held -= 1;
    }
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
          const stored: StoredError = { code: e.code, message: e.message, details: e.details };
          await this.keys.storeRefusal({
            userId,
            key,
            requestHash,
            responseStatus: ERROR_CODES[e.code],
            responseBody: JSON.stringify(stored),
          });
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
