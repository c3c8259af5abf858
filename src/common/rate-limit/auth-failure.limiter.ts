import { Inject, Injectable } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '../../config/app-config';
import { DomainError } from '../errors/domain-error';

const WINDOW_MS = 60_000;

/**
 * Failed authentications (401) per client address, on a budget of their own
 * (AUTH_FAILURE_RATE_LIMIT a minute, tighter than the public one): beyond it an address that keeps
 * sending bad tokens is answered 429 instead of 401. Only failures count, so members with valid
 * tokens behind the same address are never held back by it. Counted in the rate limiter's storage
 * (Redis when configured), like every other budget.
 */
@Injectable()
export class AuthFailureLimiter {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  /** Counts one failed authentication; the 429 to answer instead of the 401 when the address is over its budget. */
  async failed(address: string | undefined): Promise<RateLimited | null> {
    const limit = this.config.authFailureRateLimit;
    const { isBlocked, timeToBlockExpire } = await this.storage.increment(
      `auth-failure:ip:${address}`,
      WINDOW_MS,
      limit,
      WINDOW_MS,
      'auth-failure',
    );
    return isBlocked
      ? new RateLimited('Too many failed authentications from this address: wait a minute and try again', timeToBlockExpire)
      : null;
  }
}

/** A 429 RATE_LIMITED and the seconds its sender should wait (the Retry-After header). */
export class RateLimited extends DomainError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('RATE_LIMITED', message);
  }
}
