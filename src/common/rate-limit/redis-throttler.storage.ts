import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import { MemoryThrottlerStorage } from './memory-throttler.storage';

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
  private readonly logger = new Logger('RateLimit');
  private redisDown = false;

  /**
   * `fallback` counts while Redis does not answer: the limits then hold per instance instead of
   * across them. A limiter that cannot count must not turn every request it guards into a 500
   * (payment notifications included, which the providers would then retry for hours).
   */
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'memberpay:throttle:',
    private readonly fallback: ThrottlerStorage = new MemoryThrottlerStorage(),
  ) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    let reply: [number, number];
    try {
      reply = (await this.redis.eval(SCRIPT, 1, `${this.prefix}${throttlerName}:${key}`, String(ttl))) as [number, number];
    } catch (e) {
      if (!this.redisDown) {
        this.logger.warn(`Redis is not answering (${(e as Error).message}); rate limits are counted per instance until it is back`);
        this.redisDown = true;
      }
      return this.fallback.increment(key, ttl, limit, blockDuration, throttlerName);
    }
    if (this.redisDown) {
      this.logger.log('Redis answers again; rate limits are counted across instances');
      this.redisDown = false;
    }
    const [hits, pttl] = reply;
    const timeToExpire = Math.ceil(Math.max(pttl, 0) / 1000);
    const isBlocked = hits > limit;
    return { totalHits: hits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }
}
