import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';

/**
 * Fixed-window counters in Redis, shared by every instance. Written here because
 * @nest-lab/throttler-storage-redis declares peers up to NestJS 11 only, and npm refuses it
 * beside NestJS 12. One Lua script per hit keeps the count and its expiry atomic.
 */
const SCRIPT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return { hits, ttl }`;

export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'memberpay:throttle:',
  ) {}

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string) {
    const [hits, pttl] = (await this.redis.eval(SCRIPT, 1, `${this.prefix}${throttlerName}:${key}`, String(ttl))) as [number, number];
    const timeToExpire = Math.ceil(Math.max(pttl, 0) / 1000);
    const isBlocked = hits > limit;
    return { totalHits: hits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }
}
