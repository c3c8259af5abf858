import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { LessThan, Repository } from 'typeorm';
import { DomainError } from '../common/errors/domain-error';
import { ERROR_CODES, ErrorCode } from '../common/errors/error-codes';
import { IdempotencyKey } from './idempotency-key.entity';

const WINDOW_MS = 24 * 3600_000;
/** Longer than any request may run (provider timeouts are seconds). */
const ABANDONED_MS = 5 * 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface IdempotentResult<T> {
  status: number;
  body: T;
  replayed: boolean;
}

interface StoredError { code: ErrorCode; message: string; details?: string[] }

/**
 * Idempotency-Key as Stripe does it: the same user and key within 24 hours replays the first
 * answer (status and body); the same key with another body, or while the first request is still
 * running, is a 409. The unique (user_id, key) row is the lock: inserting it decides who runs.
 * Answers of 5xx are not kept, so a retry after a provider outage can try again.
 */
@Injectable()
export class IdempotencyService {
  constructor(@InjectRepository(IdempotencyKey) private readonly keys: Repository<IdempotencyKey>) {}

  async run<T>(userId: string, key: string, request: unknown, status: number, fn: () => Promise<T>): Promise<IdempotentResult<T>> {
    if (!KEY_PATTERN.test(key)) {
      throw new DomainError('VALIDATION_FAILED', 'The request is invalid', ['Idempotency-Key must be 1 to 255 printable ASCII characters']);
    }
    const requestHash = createHash('sha256').update(canonicalJson(request)).digest('hex');
    for (;;) {
      const inserted = await this.keys.createQueryBuilder().insert().values({ userId, key, requestHash, status: 'in_flight' })
        .orIgnore().returning(['id']).execute();
      if (inserted.raw.length) return this.execute(inserted.raw[0].id as string, status, fn);

      const existing = await this.keys.findOneBy({ userId, key });
      if (!existing) continue; // expired and removed in between
      if (Date.now() - existing.createdAt.getTime() > WINDOW_MS) {
        await this.keys.delete({ id: existing.id, createdAt: LessThan(new Date(Date.now() - WINDOW_MS)) });
        continue;
      }
      if (existing.requestHash !== requestHash) {
        throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body');
      }
      if (existing.status === 'in_flight' && Date.now() - existing.updatedAt.getTime() > ABANDONED_MS) {
        // The first request died mid-way (a crash): its order, if any, was never answered.
        await this.keys.delete({ id: existing.id, status: 'in_flight' });
        continue;
      }
      if (existing.status === 'in_flight') {
        throw new DomainError('IDEMPOTENCY_KEY_IN_FLIGHT', 'A request with this Idempotency-Key is still being processed; retry later');
      }
      if (existing.responseStatus! >= 400) {
        const stored = existing.responseBody as StoredError;
        throw new DomainError(stored.code, stored.message, stored.details);
      }
      return { status: existing.responseStatus!, body: existing.responseBody as T, replayed: true };
    }
  }

  private async execute<T>(id: string, status: number, fn: () => Promise<T>): Promise<IdempotentResult<T>> {
    let body: T;
    try {
      body = await fn();
    } catch (e) {
      if (e instanceof DomainError && ERROR_CODES[e.code] < 500) {
        const stored: StoredError = { code: e.code, message: e.message, details: e.details };
        await this.keys.update({ id }, { status: 'done', responseStatus: ERROR_CODES[e.code], responseBody: stored as never });
      } else {
        await this.keys.delete({ id });
      }
      throw e;
    }
    await this.keys.update({ id }, { status: 'done', responseStatus: status, responseBody: body as never });
    return { status, body, replayed: false };
  }
}

/** JSON with sorted keys, so {"a":1,"b":2} and {"b":2,"a":1} are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
