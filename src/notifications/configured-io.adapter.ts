import cluster from 'node:cluster';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server, ServerOptions } from 'socket.io';

/**
 * socket.io with the same CORS origins as the REST API (CORS_ORIGINS), which a decorator cannot read.
 *
 * In a cluster worker (WEB_CONCURRENCY > 1) only the WebSocket transport is served. HTTP
 * long-polling spreads one session over many requests, which the cluster's round-robin would hand
 * to different workers ("Session ID unknown"); socket.io's documentation names two ways out: sticky
 * sessions, or the WebSocket transport alone, whose session is one TCP connection
 * (https://socket.io/docs/v4/using-multiple-nodes/). Sticky routing inside Node
 * (@socket.io/sticky) makes the primary read every new connection, and relay over IPC every
 * connection whose first request has a body: all of the API's POSTs. Clients connect with
 * `transports: ['websocket']` (or websocket first, as the checkout page does).
 */
export class ConfiguredIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly origins: string[],
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, {
      ...options,
      cors: { origin: this.origins.length ? this.origins : false },
      ...(cluster.isWorker ? { transports: ['websocket'] } : {}),
    } as ServerOptions);
  }
}
