import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  hits: number;
  endsAt: number;
}

/**
 * Fixed-window counters in this process, for when there is no Redis: the same rule as
 * RedisThrottlerStorage (a count per key that starts at the first hit and lasts the ttl), at a
 * constant cost per request. @nestjs/throttler's own in-memory storage keeps one timestamp per hit
 * and filters the whole list on every request; under a notification storm at the callback budget
 * (thousands per minute from one sender) that filter was a fifth of the service's CPU.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();

  constructor(sweepMs = 60_000) {
    // Ended windows of clients that went quiet are dropped, so the map does not grow without bound
    // (unref: the sweep never keeps the process alive).
    setInterval(() => {
      const now = Date.now();
      for (const [key, w] of this.windows) if (w.endsAt <= now) this.windows.delete(key);
    }, sweepMs).unref();
  }

  async increment(key: string, ttl: number, limit: number, _blockDuration: number, throttlerName: string) {
    const now = Date.now();
    const id = `${throttlerName}:${key}`;
    let w = this.windows.get(id);
    if (!w || w.endsAt <= now) {
      w = { hits: 0, endsAt: now + ttl };
      this.windows.set(id, w);
    }
    w.hits += 1;
    const timeToExpire = Math.ceil((w.endsAt - now) / 1000);
    const isBlocked = w.hits > limit;
    return { totalHits: w.hits, timeToExpire, isBlocked, timeToBlockExpire: isBlocked ? timeToExpire : 0 };
  }
}
