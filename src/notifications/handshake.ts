import type { Socket } from 'socket.io';
import { UnauthenticatedError } from '../common/errors/domain-error';
import type { TokenService } from '../auth/token.service';

/** Bigserial ids: decimal, within PostgreSQL's bigint. */
const EVENT_ID = /^\d{1,19}$/;
const MAX_EVENT_ID = 2n ** 63n - 1n;

export interface HandshakeIdentity {
  userId: string;
  lastEventId: string | null;
  /** When the token expires (ms since the epoch), or null when it has no `exp`. */
  expiresAt: number | null;
}

/** The error a client sees as `connect_error`: `message` plus `data.code`, as in our HTTP errors. */
export class HandshakeRefused extends Error {
  readonly data: { code: string };

  constructor(code: string, message: string) {
    super(message);
    this.data = { code };
  }
}

/**
 * Reads the same JWT as the REST API from `auth.token` (or the `token` query parameter, for
 * clients that cannot set `auth`), and the optional `auth.lastEventId`.
 */
export function readHandshake(handshake: Socket['handshake'], tokens: TokenService): HandshakeIdentity {
  const auth = (handshake.auth ?? {}) as Record<string, unknown>;
  const token = auth.token ?? handshake.query.token;
  let session: { userId: string; expiresAt: Date | null; service: boolean };
  try {
    session = tokens.verifySession(typeof token === 'string' && token ? token : undefined);
  } catch (e) {
    if (e instanceof UnauthenticatedError) throw new HandshakeRefused(e.code, e.message);
    throw e;
  }
  // A service token names a service, not a member: it has no events of its own to hear.
  if (session.service) throw new HandshakeRefused('FORBIDDEN', 'A service token is accepted on the service routes only');
  const userId = session.userId;
  const expiresAt = session.expiresAt?.getTime() ?? null;
  const last = auth.lastEventId ?? handshake.query.lastEventId;
  if (last === undefined || last === null || last === '') return { userId, lastEventId: null, expiresAt };
  const text = typeof last === 'number' && Number.isSafeInteger(last) ? String(last) : last;
  if (typeof text !== 'string' || !EVENT_ID.test(text) || BigInt(text) > MAX_EVENT_ID) {
    throw new HandshakeRefused('VALIDATION_FAILED', 'lastEventId must be the id of an event, as received');
  }
  return { userId, lastEventId: BigInt(text).toString(), expiresAt };
}
