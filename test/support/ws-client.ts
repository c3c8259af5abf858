import { io, type Socket } from 'socket.io-client';

export interface Received {
  event: string;
  message: { id: string; type: string; order_no: string; [field: string]: unknown };
}

/** A socket.io client that records every event it receives, for assertions. */
export interface EventClient {
  socket: Socket;
  received: Received[];
  /** Resolves with the first received event matching, already here or yet to come; rejects after `timeoutMs`. */
  waitFor(match: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  close(): void;
}

export interface ConnectOptions {
  token?: string;
  lastEventId?: string | number;
  query?: Record<string, string>;
  /** Extra handshake headers (e.g. X-Forwarded-For behind a trusted proxy). */
  headers?: Record<string, string>;
}

/** Connects like an app would (WebSocket transport, no automatic reconnection); rejects on `connect_error`. */
export function connectClient(url: string, options: ConnectOptions, timeoutMs = 5000): Promise<EventClient> {
  const auth: Record<string, unknown> = {};
  if (options.token !== undefined) auth.token = options.token;
  if (options.lastEventId !== undefined) auth.lastEventId = options.lastEventId;
  const socket = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth,
    query: options.query,
    extraHeaders: options.headers,
  });
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  socket.onAny((event: string, message: Received['message']) => {
    received.push({ event, message });
    for (const wake of waiters) wake();
  });
  const client: EventClient = {
    socket,
    received,
    waitFor(match, waitMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (!found) return;
          done();
          resolve(found);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no matching event within ${waitMs} ms; received ${JSON.stringify(received.map((r) => r.event))}`));
        }, waitMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => socket.disconnect(),
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new Error(`not connected within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(client);
    });
    socket.once('connect_error', (e: Error & { data?: unknown }) => {
      clearTimeout(timer);
      socket.disconnect();
      reject(e);
    });
  });
}

/** The event of `type` for one order. */
export const eventFor = (type: string, orderNo: string) => (r: Received) => r.event === type && r.message.order_no === orderNo;
