import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes, base64url, after the `whsec_` prefix. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * `Memberpay-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the
 * whole secret string (prefix included), one `v1=` per secret that signs (two during a rotation).
 */
export function signatureHeader(secrets: readonly string[], body: string, t: number): string {
  const signed = `${t}.${body}`;
  return [`t=${t}`, ...secrets.map((s) => `v1=${createHmac('sha256', s).update(signed).digest('hex')}`)].join(',');
}

/** A secret shown after it was created: enough to recognise it, never enough to use it. */
export const maskSecret = (secret: string) => `${secret.slice(0, SECRET_PREFIX.length + 4)}…`;
