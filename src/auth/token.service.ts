import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { createSecretKey } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { UnauthenticatedError } from '../common/errors/domain-error';

/** User ids travel in rooms, logs and rows: keep them short and printable. */
const USER_ID = /^[\w.:@-]{1,64}$/;

/** Clocks of the issuer and of this service may differ by this much (iat, nbf, exp). */
export const CLOCK_TOLERANCE_SECONDS = 30;

/**
 * Verifies the HS256 tokens issued by the membership app's user service. Only HS256 is
 * accepted, so `alg: none` and other algorithms fail; `sub` is the user id. A token must expire
 * (`exp`), may live at most JWT_MAX_TTL_SECONDS, may not be issued in the future, and must name
 * JWT_ISSUER / JWT_AUDIENCE when those are set: a leaked token is then only good for a bounded time.
 */
@Injectable()
export class TokenService {
  private readonly jwt: JwtService;

  /** What a token signed with another secret is told; in development, how to get one that fits. */
  private readonly otherSecret: string;

  constructor(private readonly config: AppConfig) {
    this.otherSecret =
      'The token was signed with another secret than this service verifies with (JWT_SECRET)' +
      (config.isProduction
        ? ''
        : `: sign it with this service's secret, e.g. \`DATA_DIR=${config.dataDir} npm run -s token -- <userId>\`, or give the tool the JWT_SECRET the service runs with`);
    // A KeyObject, parsed once: given a string, jsonwebtoken tries it as a PEM key on every call
    // (390 µs a verification here, against 19 µs; bench/README.md).
    this.jwt = new JwtService({ secret: createSecretKey(Buffer.from(config.jwtSecret)) as unknown as string });
  }

  verify(token: string | undefined): string {
    return this.verifySession(token).userId;
  }

  /**
   * The user, whether the token carries `role: "admin"` (support staff, issued by the same user
   * service with the same secret), and when the token stops being valid (a WebSocket is closed then).
   */
  verifySession(token: string | undefined, now = Date.now()): Session {
    if (!token) throw new UnauthenticatedError('A bearer token is required');
    let payload: { sub?: unknown; exp?: unknown; iat?: unknown; role?: unknown };
    try {
      payload = this.jwt.verify(token, {
        algorithms: ['HS256'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        clockTimestamp: Math.floor(now / 1000),
        ...(this.config.jwtIssuer ? { issuer: this.config.jwtIssuer } : {}),
        ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
      });
    } catch (e) {
      if ((e as Error).name === 'TokenExpiredError') throw new UnauthenticatedError('The token has expired');
      // The one failure a developer can act on at once: the token is well formed but another secret
      // signed it (a token from another DATA_DIR's development secret, or another JWT_SECRET).
      if ((e as Error).message === 'invalid signature') throw new UnauthenticatedError(this.otherSecret);
      throw new UnauthenticatedError('The token is invalid');
    }
    const nowSeconds = now / 1000;
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) throw new UnauthenticatedError('The token has no expiry (exp)');
    if (payload.iat !== undefined && (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat))) {
      throw new UnauthenticatedError('The token is invalid');
    }
    const iat = payload.iat as number | undefined;
    if (iat !== undefined && iat > nowSeconds + CLOCK_TOLERANCE_SECONDS)
      throw new UnauthenticatedError('The token is issued in the future');
    const lifetime = iat !== undefined ? payload.exp - iat : payload.exp - nowSeconds - CLOCK_TOLERANCE_SECONDS;
    if (lifetime > this.config.jwtMaxTtlSeconds) {
      throw new UnauthenticatedError(`The token lives longer than ${this.config.jwtMaxTtlSeconds} seconds`);
    }
    const sub = typeof payload.sub === 'number' ? String(payload.sub) : payload.sub;
    if (typeof sub !== 'string' || !USER_ID.test(sub)) throw new UnauthenticatedError('The token has no valid subject');
    return {
      userId: sub,
      admin: payload.role === ADMIN_ROLE,
      service: payload.role === SERVICE_ROLE,
      expiresAt: new Date(payload.exp * 1000),
    };
  }

  /** A token as the user service would issue it (development and tests); at most JWT_MAX_TTL_SECONDS. */
  sign(userId: string, expiresInSeconds = this.config.jwtMaxTtlSeconds, options: { admin?: boolean; service?: boolean } = {}): string {
    if (!(expiresInSeconds <= this.config.jwtMaxTtlSeconds)) {
      throw new Error(`a token may live at most ${this.config.jwtMaxTtlSeconds} seconds (JWT_MAX_TTL_SECONDS)`);
    }
    const role = options.admin ? ADMIN_ROLE : options.service ? SERVICE_ROLE : undefined;
    const claims = role ? { sub: userId, role } : { sub: userId };
    return this.jwt.sign(claims, {
      algorithm: 'HS256',
      expiresIn: expiresInSeconds,
      ...(this.config.jwtIssuer ? { issuer: this.config.jwtIssuer } : {}),
      ...(this.config.jwtAudience ? { audience: this.config.jwtAudience } : {}),
    });
  }
}

/** The `role` claim value that makes a token an admin's. */
export const ADMIN_ROLE = 'admin';

/**
 * The `role` claim value of another backend service (content, chat, the gateway): it may read
 * entitlements and nothing a member or an admin reads; `sub` names the service.
 */
export const SERVICE_ROLE = 'service';

export interface Session {
  userId: string;
  /** The token carries `role: "admin"`. */
  admin: boolean;
  /** The token carries `role: "service"`. */
  service: boolean;
  expiresAt: Date;
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
