import type { Socket } from 'socket.io';
import type { TokenService } from '../auth/token.service';
import { UnauthenticatedError } from '../common/errors/domain-error';
import { HandshakeRefused, readHandshake } from './handshake';

/** A token service that knows one token, "good", for member m-1 until `expiresAt`. */
const tokens = (expiresAt: Date | null = new Date('2026-12-01T00:00:00Z')) =>
  ({
    verifySession(token: string | undefined) {
      if (token !== 'good') throw new UnauthenticatedError();
      return { userId: 'm-1', expiresAt };
    },
  }) as unknown as TokenService;

const handshake = (auth: Record<string, unknown> | undefined, query: Record<string, unknown> = {}) =>
  ({ auth, query }) as unknown as Socket['handshake'];

const refusal = (fn: () => unknown): { code: string; message: string } => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HandshakeRefused);
    return { code: (e as HandshakeRefused).data.code, message: (e as Error).message };
  }
  throw new Error('expected the handshake to be refused');
};

describe('readHandshake', () => {
  it('reads the member, the token expiry and no last event id from auth', () => {
    expect(readHandshake(handshake({ token: 'good' }), tokens())).toEqual({
      userId: 'm-1',
      lastEventId: null,
      expiresAt: Date.parse('2026-12-01T00:00:00Z'),
    });
  });

  it('takes the token and the last event id from the query when auth has none', () => {
    expect(readHandshake(handshake(undefined, { token: 'good', lastEventId: '42' }), tokens(null))).toEqual({
      userId: 'm-1',
      lastEventId: '42',
      expiresAt: null,
    });
  });

  it('accepts a numeric lastEventId and gives it back as canonical decimal text', () => {
    expect(readHandshake(handshake({ token: 'good', lastEventId: 7 }), tokens()).lastEventId).toBe('7');
    expect(readHandshake(handshake({ token: 'good', lastEventId: '007' }), tokens()).lastEventId).toBe('7');
    expect(readHandshake(handshake({ token: 'good', lastEventId: '' }), tokens()).lastEventId).toBeNull();
  });

  it('refuses a missing or bad token with the REST code', () => {
    expect(refusal(() => readHandshake(handshake({}), tokens())).code).toBe('UNAUTHENTICATED');
    expect(refusal(() => readHandshake(handshake({ token: 'forged' }), tokens())).code).toBe('UNAUTHENTICATED');
    expect(refusal(() => readHandshake(handshake({ token: 42 }), tokens())).code).toBe('UNAUTHENTICATED');
  });

  it.each([['-1'], ['1.5'], ['abc'], ['9223372036854775808'], ['12345678901234567890'], [1.5], [{}], [true]])(
    'refuses lastEventId %p: not the id of an event',
    (lastEventId) => {
      expect(refusal(() => readHandshake(handshake({ token: 'good', lastEventId }), tokens()))).toEqual({
        code: 'VALIDATION_FAILED',
        message: 'lastEventId must be the id of an event, as received',
      });
    },
  );

  it('takes the largest bigint id', () => {
    expect(readHandshake(handshake({ token: 'good', lastEventId: '9223372036854775807' }), tokens()).lastEventId).toBe(
      '9223372036854775807',
    );
  });
});
