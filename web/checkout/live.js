// @ts-check
// Order events over socket.io, as the README describes them: the token in `auth`, the id of the
// last event seen sent back as `auth.lastEventId` on every (re)connect so that nothing is missed,
// and a fresh token fetched when the server says the session expired.

/** @typedef {'connecting' | 'live' | 'down'} LiveState */
/** @typedef {{ id: string, type: string, order_no: string, [field: string]: unknown }} OrderEvent */

/** @param {string | null} a @param {string} b */
const later = (a, b) => (a === null || BigInt(b) > BigInt(a) ? b : a);

/**
 * @param {{
 *   getToken: () => string | null,
 *   renewToken: () => Promise<boolean>,
 *   storageKey: string,
 *   onEvent: (event: string, message: OrderEvent) => void,
 *   onState: (state: LiveState) => void,
 *   onSignedOut: () => void,
 * }} options
 */
export function connectLive({ getToken, renewToken, storageKey, onEvent, onState, onSignedOut }) {
  /** @type {typeof import('socket.io-client').io} */
  const io = /** @type {any} */ (globalThis).io;
  /** @type {string | null} */
  let lastEventId = sessionStorage.getItem(storageKey);
  onState('connecting');
  const socket = io({
    path: '/socket.io',
    // WebSocket first: the only transport a multi-process service serves (long-polling needs
    // sticky sessions); long-polling stays the fallback where WebSockets are blocked.
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    // How long one connection attempt may take (socket.io's default is 20 s): where a proxy or a
    // firewall swallows the WebSocket, the page says so and falls back to polling after 5 s, and
    // a reconnect never waits behind an attempt that is already lost.
    timeout: 5_000,
    // A function, so every reconnect sends the current token and the last id seen.
    auth: (cb) => cb({ token: getToken(), ...(lastEventId ? { lastEventId } : {}) }),
  });
  const reconnectWithNewToken = async () => {
    if (await renewToken()) socket.connect();
    else onSignedOut();
  };
  socket.on('connect', () => onState('live'));
  socket.on('disconnect', (reason) => {
    onState('down');
    // The server ends the session when the token expires; the client does not retry that by itself.
    if (reason === 'io server disconnect') void reconnectWithNewToken();
  });
  socket.on('connect_error', (err) => {
    onState('down');
    // A refused handshake is not retried by socket.io; network failures are (socket.active).
    const code = /** @type {{ data?: { code?: string } }} */ (err).data?.code;
    if (!socket.active && code === 'UNAUTHENTICATED') void reconnectWithNewToken();
  });
  socket.onAny((event, message) => {
    if (!message || typeof message.id !== 'string' || !/^\d+$/.test(message.id)) return;
    lastEventId = later(lastEventId, message.id);
    sessionStorage.setItem(storageKey, lastEventId);
    onEvent(event, message);
  });
  return socket;
}
