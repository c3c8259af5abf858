import { createHmac } from 'node:crypto';

/** The bench's fixed HS256 secret: the service under test is started with it as JWT_SECRET. */
export const BENCH_JWT_SECRET = 'memberpay-bench-secret-0123456789abcdef';

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/**
 * A bearer token as the membership app's user service issues it (HS256, `sub` = user id).
 * Hand-written with node:crypto so the load generator signs thousands of them without loading
 * Nest or jsonwebtoken.
 */
export function signToken(userId: string, secret = BENCH_JWT_SECRET, ttlSeconds = 3600, claims: Record<string, string> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = b64url(JSON.stringify({ sub: userId, iat: now, exp: now + ttlSeconds, ...claims }));
  const signature = createHmac('sha256', secret).update(`${HEADER}.${payload}`).digest('base64url');
  return `${HEADER}.${payload}.${signature}`;
}
