import type { Logger } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import type { EventsServer } from './socket-events';

export interface RedisLink {
  close(): Promise<void>;
}

/** What the gateway hears of its subscription to the other instances' messages. */
export interface SubscriptionWatch {
  /** The subscription is down: what other instances publish meanwhile never reaches this one. */
  lost(): void;
  /** Subscribed again, and Redis has answered since: whatever is published from now on is heard. */
  confirmed(): void;
}

/**
 * Puts the socket.io Redis adapter under the server, so instances sharing REDIS_URL hear each
 * other. The channels are named after the URL's `keyPrefix` option (`redis://host:6379/0?keyPrefix=app:`),
 * so deployments sharing one Redis stay apart: Redis pub/sub channels ignore the database number.
 */
export function attachRedisAdapter(server: EventsServer, url: string, logger: Logger, watch: SubscriptionWatch): RedisLink {
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
  // Redis pub/sub keeps nothing for a subscriber that is away, and the publishers' queued messages
  // may go out before this subscription is back: the gateway reads such a gap back from the outbox.
  subscriber.on('close', () => watch.lost());
  subscriber.on('ready', () => {
    // ioredis writes the resubscriptions before it emits 'ready', so a PING answered now was
    // answered after them (one connection, in order): the subscription is in force.
    subscriber.ping().then(
      () => watch.confirmed(),
      () => undefined, // closed again meanwhile: the next 'ready' confirms
    );
  });
  server.adapter(createAdapter(publisher, subscriber, { key: `${publisher.options.keyPrefix ?? ''}socket.io` }));
  return {
    async close() {
      await Promise.allSettled([publisher, subscriber].map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    },
  };
}
