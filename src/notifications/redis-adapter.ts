import type { Logger } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { EventsServer } from './socket-events';

export interface RedisLink {
  close(): Promise<void>;
}

/**
 * Puts the socket.io Redis adapter under the server, so instances sharing REDIS_URL hear each
 * other. The channels are named after the URL's `keyPrefix` option (`redis://host:6379/0?keyPrefix=app:`),
 * so deployments sharing one Redis stay apart: Redis pub/sub channels ignore the database number.
 */
export function attachRedisAdapter(server: EventsServer, url: string, logger: Logger): RedisLink {
  // The adapter publishes without awaiting; an unbounded retry keeps a Redis outage from turning
  // into unhandled rejections, and the queued messages go out once Redis is back.
  const publisher = new Redis(url, { maxRetriesPerRequest: null });
  const subscriber = publisher.duplicate();
  for (const [role, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
  ] as const) {
    // Without a listener ioredis would throw; it reconnects on its own, so one line per outage is enough.
    let down = false;
    client.on('error', (e: Error) => {
      if (!down) logger.warn(`Redis ${role} connection failed (${e.message}); events reach only this instance until it is back`);
      down = true;
    });
    client.on('ready', () => {
      if (down) logger.log(`Redis ${role} connection is back`);
      down = false;
    });
  }
  server.adapter(createAdapter(publisher, subscriber, { key: `${publisher.options.keyPrefix ?? ''}socket.io` }));
  return {
    async close() {
      await Promise.allSettled([publisher, subscriber].map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    },
  };
}
