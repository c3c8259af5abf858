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
import { MissedEventsRepository } from '../outbox/missed-events.repository';
import { attachRedisAdapter, RedisLink } from './redis-adapter';
import type { DeliverableEvent } from '../outbox/order-events';
import { EventsServer, EventsSocket, toMessage, userRoom } from './socket-events';

const REPLAY_PAGE = 200;
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
    if (this.config.redisUrl) this.redis = attachRedisAdapter(server, this.config.redisUrl, this.logger);
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
    // After Nest has closed the socket.io server (and with it the adapter's subscriptions).
    await this.redis?.close();
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
