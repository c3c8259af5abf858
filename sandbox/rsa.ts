// SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256), base64: the one signature algorithm of both
// providers (docs/wechat-pay.md#request-signatures, docs/alipay.md#request-signatures). Written with node:crypto directly so that the
// emulator shares no signing code with memberpay's providers or the SDKs.
import { createSign, createVerify, type KeyObject } from 'node:crypto';

export function signBase64(privateKey: KeyObject, message: string | Buffer): string {
  return createSign('RSA-SHA256').update(message).sign(privateKey, 'base64');
}

export function verifyBase64(publicKey: KeyObject, message: string | Buffer, signature: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(message).verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

/** Flips one byte of a base64 signature: still well-formed, never valid. */
export function corruptSignature(signature: string): string {
  const bytes = Buffer.from(signature, 'base64');
  bytes[bytes.length >> 1] ^= 0xff;
  return bytes.toString('base64');
}
