import { Injectable, Module, OnModuleDestroy } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import Redis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/** Holds the Redis connection of the rate limiter, closed on shutdown. */
@Injectable()
class ThrottlerRedis implements OnModuleDestroy {
  readonly client?: Redis;

  constructor(config: AppConfig) {
    if (config.redisUrl) this.client = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.quit().catch(() => undefined);
  }
}

@Module({ providers: [ThrottlerRedis], exports: [ThrottlerRedis] })
class ThrottlerRedisModule {}

/**
 * Per-user limit on create-order (@nestjs/throttler), counted in Redis when REDIS_URL is set so
 * that every instance shares it, in memory otherwise.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerRedisModule],
      inject: [AppConfig, ThrottlerRedis],
      useFactory: (config: AppConfig, redis: ThrottlerRedis) => ({
        throttlers: [{ name: 'create-order', ttl: 60_000, limit: config.createOrderRateLimit }],
        storage: redis.client ? new RedisThrottlerStorage(redis.client) : undefined,
        errorMessage: 'Too many orders created: wait a minute and try again',
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class RateLimitModule {}

/** Tracks the authenticated user (set by the auth guard, which runs first), not the IP. */
@Injectable()
export class UserThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(req: { userId?: string; ip: string }): Promise<string> {
    return req.userId ?? req.ip;
  }
}
