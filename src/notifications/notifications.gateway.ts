import cluster from 'node:cluster';
import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { createAdapter as createClusterAdapter } from '@socket.io/cluster-adapter';
import { OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, WebSocketGateway, WebSocketServer } from '@nestjs/websockets';
import { TokenService } from '../auth/token.service';
import { clientAddress, trustFunction } from '../common/rate-limit/client-address';
import { HandshakeLimiter } from '../common/rate-limit/rate-limit.module';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { EventStream } from './event-stream';
import { HandshakeRefused, readHandshake } from './handshake';
import { AnnouncedEvent, MissedEventsRepository } from '../outbox/missed-events.repository';
import { attachRedisAdapter, RedisLink } from './redis-adapter';
import type { DeliverableEvent } from '../outbox/order-events';
import { EventsServer, EventsSocket, toMessage, userRoom } from './socket-events';

const REPLAY_PAGE = 200;
/** While the Redis subscription is down, the outbox is read for the connections here this often. */
export const GAP_POLL_MS = 1_000;
/**
 * How far before a gap began announcements are read again: the clocks of this instance and the
 * database (which stamps published_at) may differ, and a message published just before the link
 * broke may have died in Redis with it.
 */
export const GAP_MARGIN_MS = 10_000;
/** Users per read of a catch-up (one indexed lookup each). */
const CATCH_UP_USERS = 500;
/** setTimeout's longest delay (about 24.8 days); a later expiry re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Order events for their owners over socket.io, on the API's own port at /socket.io.
 * The handshake carries the REST API's JWT; each connection joins its user's room only.
 */
@WebSocketGateway({ path: '/socket.io', serveClient: false })
export class NotificationsGateway
  implements OnGatewayInit<EventsServer>, OnGatewayConnection<EventsSocket>, OnGatewayDisconnect<EventsSocket>, OnApplicationShutdown
{
  private readonly logger = new Logger('Notifications');
  /** Per connection, what it has been sent (kept off socket.data so it never crosses instances). */
  private readonly streams = new WeakMap<EventsSocket, EventStream>();
  /** Per connection, the timer that closes it when its token expires. */
  private readonly expiryTimers = new WeakMap<EventsSocket, NodeJS.Timeout>();
  private redis?: RedisLink;
  /** Other instances (Redis) or other workers of this cluster hear what is published here. */
  private acrossInstances = false;
  /** Open connections per user on this instance, counted from the handshake (WS_CONNECTIONS_PER_USER). */
  private readonly perUser = new Map<string, number>();
  /** Sockets counted in perUser, so each is uncounted exactly once. */
  private readonly counted = new WeakSet<EventsSocket>();
  private readonly trust: ReturnType<typeof trustFunction>;
  /**
   * While this instance may not hear what the others publish (its Redis subscription down, or not
   * yet confirmed since it came back): since when (ms), and which loss of the link is the latest
   * (`lost`) and the latest confirmed. Null: it hears everything.
   */
  private gap: { since: number; lost: number; confirmed: number } | null = null;
  private gapTimer?: NodeJS.Timeout;
  private catchingUp?: Promise<void>;
  private catchUpFailing = false;
  private closing = false;
  private heardBefore = false;

  @WebSocketServer()
  private readonly server: EventsServer;

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly missed: MissedEventsRepository,
    private readonly metrics: MetricsService,
    private readonly limiter: HandshakeLimiter,
  ) {
    this.trust = trustFunction(config.trustProxy);
  }

  afterInit(server: EventsServer): void {
    // A socket.io middleware, so a refused client gets `connect_error` and never connects.
    server.use(async (socket, next) => {
      try {
        // Handshakes are unauthenticated requests: the same per-address budget as the public routes.
        if (!(await this.limiter.allow(clientAddress(socket.request, this.trust)))) {
          throw new HandshakeRefused('RATE_LIMITED', 'Too many connection attempts: wait a minute and try again');
        }
        const { userId, lastEventId, expiresAt } = readHandshake(socket.handshake, this.tokens);
        // Each connection holds memory and a timer here: one member may not open them without bound.
        if ((this.perUser.get(userId) ?? 0) >= this.config.wsConnectionsPerUser) throw this.tooManyConnections();
        socket.data.userId = userId;
        socket.data.lastEventId = lastEventId;
        socket.data.expiresAt = expiresAt;
        next();
      } catch (e) {
        if (!(e instanceof HandshakeRefused)) this.logger.error(`handshake failed: ${(e as Error).message}`);
        next(e instanceof HandshakeRefused ? e : new HandshakeRefused('INTERNAL_ERROR', 'The connection could not be set up'));
      }
    });
    if (this.config.redisUrl) {
      // Not subscribed yet: the first confirmation ends this gap (nobody is connected before it, normally).
      this.subscriptionLost();
      this.redis = attachRedisAdapter(server, this.config.redisUrl, this.logger, {
        lost: () => this.subscriptionLost(),
        confirmed: () => this.subscriptionConfirmed(),
      });
    }
    // Workers of one cluster without Redis hear each other through the cluster's primary.
    else if (cluster.isWorker) server.adapter(createClusterAdapter());
    this.acrossInstances = !!this.redis || cluster.isWorker;
    // Events committed on another instance, for the connections held here.
    server.on('order-events.committed', (events) => this.deliverHere(events));
  }

  async handleConnection(socket: EventsSocket): Promise<void> {
    const { userId } = socket.data;
    // Counted on connection (a handshake whose client left meanwhile never connects, nor disconnects).
    const open = (this.perUser.get(userId) ?? 0) + 1;
    this.perUser.set(userId, open);
    this.counted.add(socket);
    if (open > this.config.wsConnectionsPerUser) {
      // Handshakes that raced past the check: the later ones go.
      socket.disconnect(true);
      return;
    }
    const lastEventId = socket.data.lastEventId === null ? null : BigInt(socket.data.lastEventId);
    const stream = new EventStream(lastEventId, (event) => {
      socket.emit(event.type, toMessage(event) as never);
      this.metrics.wsEvents.inc({ type: event.type });
    });
    this.streams.set(socket, stream);
    this.metrics.wsConnections.inc();
    this.closeWhenExpired(socket);
    // Join before reading the missed events: an event committed in between is then held, not lost.
    await socket.join(userRoom(userId));
    if (lastEventId === null) return;
    try {
      for (let after = lastEventId; socket.connected;) {
        const page = await this.missed.after(userId, after, REPLAY_PAGE);
        stream.replay(page);
        if (page.length < REPLAY_PAGE) break;
        after = BigInt(page[page.length - 1].id);
      }
      stream.endReplay();
    } catch (e) {
      // The client would otherwise miss events silently; disconnected, it reconnects and asks again.
      this.logger.error(`replay for a connection of user ${userId} failed: ${(e as Error).message}`);
      socket.disconnect(true);
    }
  }

  handleDisconnect(socket: EventsSocket): void {
    clearTimeout(this.expiryTimers.get(socket));
    if (this.counted.delete(socket)) {
      const left = (this.perUser.get(socket.data.userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(socket.data.userId, left);
      else this.perUser.delete(socket.data.userId);
    }
    if (this.streams.delete(socket)) this.metrics.wsConnections.dec();
  }

  private tooManyConnections(): HandshakeRefused {
    return new HandshakeRefused('RATE_LIMITED', `At most ${this.config.wsConnectionsPerUser} connections per user: close another first`);
  }

  /**
   * A token that expires ends the connection too: payment events are not for whoever holds an
   * expired token. The client is told (`session.expired`), then disconnected; it reconnects with a
   * fresh token and its last event id and misses nothing.
   */
  private closeWhenExpired(socket: EventsSocket): void {
    const { expiresAt } = socket.data;
    if (expiresAt === null || socket.disconnected) return; // gone already: no timer to leak
    const remaining = expiresAt - Date.now();
    if (remaining > 0) {
      this.expiryTimers.set(socket, setTimeout(() => this.closeWhenExpired(socket), Math.min(remaining, MAX_TIMER_MS)).unref());
      return;
    }
    socket.emit('session.expired', {
      code: 'UNAUTHENTICATED',
      message: 'The token has expired: reconnect with a fresh token and auth.lastEventId',
    });
    socket.disconnect(true);
  }

  /** Delivers committed events to their owners' connections, here and on every other instance. */
  publish(events: DeliverableEvent[]): void {
    const wire = events.map(({ id, type, userId, payload }) => ({ id, type, userId, payload }));
    this.deliverHere(wire);
    if (this.acrossInstances) this.server.serverSideEmit('order-events.committed', wire);
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.gapTimer);
    await this.catchingUp;
    // After Nest has closed the socket.io server (and with it the adapter's subscriptions).
    await this.redis?.close();
  }

  /**
   * Redis pub/sub keeps nothing for an absent subscriber: what other instances publish while this
   * one's subscription is down is lost to the connections here, and those clients, still
   * connected, have no reason to reconnect and replay. So, from the moment the link drops until a
   * read that began after it was confirmed back, the connections here are caught up from the
   * outbox every GAP_POLL_MS: their users' events announced since the gap began (or not announced
   * yet), minus those each connection was already sent. At least once, like the rest: a client
   * drops an id it has seen.
   */
  private subscriptionLost(): void {
    if (this.closing) return;
    if (this.gap) this.gap.lost++;
    else {
      this.gap = { since: Date.now(), lost: 1, confirmed: 0 };
      // One line per outage: the adapter's own lines say why.
      if (this.heardBefore)
        this.logger.warn(`events from other instances are read from the outbox every ${GAP_POLL_MS} ms until Redis is back`);
    }
    this.gapTimer ??= setInterval(() => void this.catchUpGap(), GAP_POLL_MS).unref();
  }

  private subscriptionConfirmed(): void {
    if (!this.gap) return;
    this.gap.confirmed = this.gap.lost;
    void this.catchUpGap();
  }

  /** One catch-up at a time; the gap ends after a pass that began with the subscription confirmed. */
  private catchUpGap(): Promise<void> {
    this.catchingUp ??= this.catchUpPass().finally(() => (this.catchingUp = undefined));
    return this.catchingUp;
  }

  private async catchUpPass(): Promise<void> {
    const gap = this.gap;
    if (!gap || this.closing) return;
    const heardFromNowOn = gap.confirmed === gap.lost;
    const lostBefore = gap.lost;
    let caughtUp: number;
    try {
      caughtUp = await this.catchUp(gap.since);
    } catch (e) {
      if (!this.catchUpFailing)
        this.logger.error(`catching connections up from the outbox failed (${(e as Error).message}); retried every ${GAP_POLL_MS} ms`);
      this.catchUpFailing = true;
      return;
    }
    this.catchUpFailing = false;
    if (caughtUp) this.logger.warn(`caught up ${caughtUp} event(s) that connections here did not hear from other instances`);
    if (!heardFromNowOn || this.gap !== gap || gap.lost !== lostBefore) return;
    this.gap = null;
    clearInterval(this.gapTimer);
    this.gapTimer = undefined;
    // The gap every instance starts with (not subscribed yet) ends unremarked.
    if (this.heardBefore)
      this.logger.log(
        `events from other instances are heard through Redis again (gap of ${Math.round((Date.now() - gap.since) / 1000)} s)`,
      );
    this.heardBefore = true;
  }

  /** Sends each connection here its user's events announced since `since` (or not yet) that it was not sent; returns how many. */
  private async catchUp(since: number): Promise<number> {
    const byUser = new Map<string, EventsSocket[]>();
    for (const socket of this.server.sockets.sockets.values()) {
      if (!this.streams.has(socket)) continue;
      const sockets = byUser.get(socket.data.userId) ?? [];
      sockets.push(socket);
      byUser.set(socket.data.userId, sockets);
    }
    const users = [...byUser.keys()];
    let fresh = 0;
    for (let i = 0; i < users.length; i += CATCH_UP_USERS) {
      const events = await this.missed.announcedSince(users.slice(i, i + CATCH_UP_USERS), new Date(since - GAP_MARGIN_MS));
      const perUser = new Map<string, AnnouncedEvent[]>();
      for (const e of events) perUser.set(e.userId, [...(perUser.get(e.userId) ?? []), e]);
      for (const [userId, theirs] of perUser) {
        for (const socket of byUser.get(userId) ?? []) {
          // A connection opened during the gap is owed what was announced after it opened (its
          // lastEventId, if any, was replayed when it connected).
          const from = Math.max(since, socket.handshake.issued) - GAP_MARGIN_MS;
          const owed = theirs.filter((e) => e.publishedAt === null || e.publishedAt.getTime() >= from);
          fresh += this.streams.get(socket)?.catchUp(owed) ?? 0;
        }
      }
    }
    this.metrics.wsCaughtUp.inc(fresh);
    return fresh;
  }

  private deliverHere(events: DeliverableEvent[]): void {
    for (const event of events) {
      for (const socketId of this.server.sockets.adapter.rooms.get(userRoom(event.userId)) ?? []) {
        const socket = this.server.sockets.sockets.get(socketId);
        if (socket) this.streams.get(socket)?.offer(event);
      }
    }
  }
}
