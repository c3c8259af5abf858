import Redis from 'ioredis';
import { freePort } from '../net';
import { RedisThrottlerStorage } from './redis-throttler.storage';

describe('RedisThrottlerStorage while Redis does not answer', () => {
  let redis: Redis;
  beforeAll(async () => {
    // A port nobody listens on: every command fails, as during a Redis outage or restart.
    redis = new Redis(await freePort(), '127.0.0.1', { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    redis.on('error', () => undefined);
  });
  afterAll(() => {
    if (redis.status !== 'end') redis.disconnect();
  });

  it('counts in this process instead of failing the request, and still blocks past the limit', async () => {
    const storage = new RedisThrottlerStorage(redis);
    const hits = [];
    for (let i = 0; i < 3; i++) hits.push(await storage.increment('member-1', 60_000, 2, 0, 'create-order'));
    expect(hits.map((h) => [h.totalHits, h.isBlocked])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(hits[2].timeToBlockExpire).toBeGreaterThan(0);
    // Another key has a count of its own.
    expect(await storage.increment('member-2', 60_000, 2, 0, 'create-order')).toMatchObject({ totalHits: 1, isBlocked: false });
  });
});
