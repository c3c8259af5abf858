import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const ALNUM = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Random `[0-9A-Za-z]` string: the alphabet of WeChat nonces (docs/wechat-pay.md#request-signatures). */
export function randomAlnum(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += String(randomInt(10));
  return out;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * A 40-hex-char certificate serial. The first byte is kept in 0x10..0x7f so the DER integer is
 * positive and has no leading zero byte: the serial OpenSSL prints is then exactly these 40 chars.
 */
export function certificateSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = 0x10 + (bytes[0] % 0x70);
  return bytes.toString('hex').toUpperCase();
}

export function uuid(): string {
  return randomUUID();
}
