import {
  applyDecorators,
  ExecutionContext,
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  OnModuleDestroy,
  SetMetadata,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule, ThrottlerStorage } from '@nestjs/throttler';
import type { Request } from 'express';
import Redis from 'ioredis';
import { PUBLIC } from '../public-route';
import { AppConfig } from '../../config/app-config';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { MemoryThrottlerStorage } from './memory-throttler.storage';
import { RedisThrottlerStorage } from './redis-throttler.storage';

/** Which budget a route draws on. */
export type RateLimitName = 'create-order' | 'order-action' | 'public' | 'callback';
const RATE_LIMIT = 'memberpay:rate-limit';
const WINDOW_MS = 60_000;
/** The provider callbacks' path; their senders get a budget of their own, far above the other public routes. */
const CALLBACK_PATH = /^\/api\/v1\/payment\/[a-z]+\/(?:contract-|papay-)?callback\/?$/;

/** Per controller and handler: the route's named budget, 'by-path' for a public route (callback or public), or null. */
const routeBudgets = new WeakMap<object, WeakMap<object, RateLimitName | 'by-path' | null>>();

/** Puts a route on a named budget (per user for create-order and order-action, per client address otherwise). */
export const RateLimit = (name: RateLimitName) => applyDecorators(SetMetadata(RATE_LIMIT, name));

/**
 * The budget a request draws on: the route's own (@RateLimit), else every unauthenticated route
 * (@Public) is limited per client address — provider callbacks on their own budget — and
 * authenticated routes without @RateLimit are not limited.
 */
export function rateLimitOf(context: ExecutionContext): RateLimitName | null {
  const handler = context.getHandler();
  const controller = context.getClass();
  // A route's decorators never change: read once per route, not once per budget and request.
  let byHandler = routeBudgets.get(controller);
  if (!byHandler) routeBudgets.set(controller, (byHandler = new WeakMap()));
  let route = byHandler.get(handler);
  if (route === undefined) {
    const targets = [handler, controller];
    const named = targets.map((t) => Reflect.getMetadata(RATE_LIMIT, t) as RateLimitName | undefined).find(Boolean);
    route = named ?? (targets.some((t) => Reflect.getMetadata(PUBLIC, t)) ? 'by-path' : null);
    byHandler.set(handler, route);
  }
  if (route !== 'by-path') return route;
  const req = context.switchToHttp().getRequest<Request>();
  // The scrape is the operator's monitoring, not a client's traffic: Prometheus takes a refused
  // scrape for a target that is down. It costs the database nothing (every metric is answered
  // from memory), so it needs no budget; expose it to the scraper's network only (OPS_PORT).
  if (req.path === '/metrics') return null;
  return CALLBACK_PATH.test(req.path) ? 'callback' : 'public';
}

/**
 * The throttler names its headers after the budget (`Retry-After-create-order`) for every budget
 * not called `default`; a client, and RFC 9110, know only `Retry-After`.
 */
@Injectable()
class StandardHeadersThrottlerGuard extends ThrottlerGuard {
  protected override setResponseHeader(res: Record<string, unknown>, name: string, value: string | number): void {
    if (name.startsWith('Retry-After')) super.setResponseHeader(res, 'Retry-After', Math.max(1, Number(value)));
    else super.setResponseHeader(res, name, value);
  }
}

/** Holds the Redis connection of the rate limiter, closed on shutdown. */
@Injectable()
class ThrottlerRedis implements OnModuleDestroy {
  readonly client?: Redis;
  private readonly logger = new Logger('RateLimit');

  constructor(config: AppConfig) {
    if (!config.redisUrl) return;
    this.client = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // ioredis prints every failed reconnect with its stack when nobody listens; the storage reports
    // an outage once (it counts per instance meanwhile), so these are only kept at debug level.
    this.client.on('error', (e: Error) => this.logger.debug(`rate limiter's Redis: ${e.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    await this.client?.quit().catch(() => undefined);
  }
}

@Module({ providers: [ThrottlerRedis], exports: [ThrottlerRedis] })
class ThrottlerRedisModule {}

/** The request as the trackers read it: the auth guard's user id, Express's client address. */
type Tracked = { userId?: string; ip?: string };
const byUser = (req: Tracked) => (req.userId ? `user:${req.userId}` : `ip:${req.ip}`);
const byAddress = (req: Tracked) => `ip:${req.ip}`;

/**
 * Counts one socket.io handshake of a client address against the `public` budget, which HTTP
 * guards never see (the handshake is not a Nest route). True when it is within the limit.
 */
@Injectable()
export class HandshakeLimiter {
  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  async allow(address: string): Promise<boolean> {
    const { isBlocked } = await this.storage.increment(`public:ip:${address}`, WINDOW_MS, this.config.publicRateLimit, WINDOW_MS, 'public');
    return !isBlocked;
  }
}

/**
 * Rate limits (@nestjs/throttler), counted in Redis when REDIS_URL is set so that every instance
 * shares them, in memory otherwise (per process: with WEB_CONCURRENCY > 1, set REDIS_URL). One global guard; each route draws on one budget
 * (rateLimitOf), whose counter is shared by every route on that budget.
 */
@Global()
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [ThrottlerRedisModule],
      inject: [AppConfig, ThrottlerRedis],
      useFactory: (config: AppConfig, redis: ThrottlerRedis) => {
        const budget = (name: RateLimitName, limit: number, tracker: (req: Tracked) => string) => ({
          name,
          ttl: WINDOW_MS,
          limit,
          getTracker: tracker,
          skipIf: (context: ExecutionContext) => context.getType() !== 'http' || rateLimitOf(context) !== name,
          generateKey: (_context: ExecutionContext, key: string) => `${name}:${key}`,
        });
        return {
          throttlers: [
            budget('create-order', config.createOrderRateLimit, byUser),
            budget('order-action', config.orderActionRateLimit, byUser),
            budget('public', config.publicRateLimit, byAddress),
            budget('callback', config.callbackRateLimit, byAddress),
          ],
          storage: redis.client ? new RedisThrottlerStorage(redis.client) : new MemoryThrottlerStorage(),
          errorMessage: 'Too many requests: wait a minute and try again',
        };
      },
    }),
  ],
  providers: [{ provide: APP_GUARD, useClass: StandardHeadersThrottlerGuard }, HandshakeLimiter, AuthFailureLimiter],
  exports: [ThrottlerModule, HandshakeLimiter, AuthFailureLimiter],
})
export class RateLimitModule {}
