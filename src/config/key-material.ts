import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';

/** Thrown with a message that never contains key material. */
export class KeyMaterialError extends Error {}

export function readTextFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new KeyMaterialError(`cannot read the file ${path}`);
  }
}

function toKey<T>(build: () => T, what: string): T {
  try {
    return build();
  } catch {
    throw new KeyMaterialError(`is not ${what}`);
  }
}

/**
 * Accepts a PEM text, bare base64 DER (PKCS#8 or PKCS#1, as Alipay's key tool hands them out)
 * or a path to a file holding either, and returns a PKCS#8 PEM.
 */
export function normalizePrivateKey(input: string): string {
  const text = loadInline(input);
  const key = text.includes('-----BEGIN')
    ? toKey(() => createPrivateKey(text), 'a private key')
    : derKey(text, (der, type) => createPrivateKey({ key: der, format: 'der', type }), ['pkcs8', 'pkcs1'], 'a private key');
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Same for a public key (SPKI or PKCS#1, PEM or bare base64); returns an SPKI PEM. */
export function normalizePublicKey(input: string): string {
  const text = loadInline(input);
  const key = text.includes('-----BEGIN CERTIFICATE')
    ? toKey(() => new X509Certificate(text).publicKey, 'a public key')
    : text.includes('-----BEGIN')
      ? toKey(() => createPublicKey(text), 'a public key')
      : derKey(text, (der, type) => createPublicKey({ key: der, format: 'der', type }), ['spki', 'pkcs1'], 'a public key');
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

function derKey<DerType extends string>(
  base64: string,
  build: (der: Buffer, type: DerType) => KeyObject,
  types: DerType[],
  what: string,
): KeyObject {
  const der = Buffer.from(base64.replace(/\s+/g, ''), 'base64');
  for (const type of types) {
    try {
      return build(der, type);
    } catch {
      // try the next encoding
    }
  }
  throw new KeyMaterialError(`is not ${what}`);
}

function loadInline(input: string): string {
  const value = input.trim().replace(/\\n/g, '\n');
  if (value.includes('-----BEGIN') || /^[A-Za-z0-9+/=\s]{100,}$/.test(value)) return value;
  if (existsSync(value)) return readTextFile(value).trim();
  throw new KeyMaterialError('is neither a PEM key, base64 key text nor a readable file');
}

export function loadPrivateKeyFile(path: string): string {
  const pem = readTextFile(path);
  toKey(() => createPrivateKey(pem), 'a private key');
  return pem;
}

export function loadCertificate(path: string): X509Certificate {
  const pem = readTextFile(path);
  return toKey(() => new X509Certificate(pem), 'an X.509 certificate');
}

export function loadPublicKeyFile(path: string): string {
  return normalizePublicKey(readTextFile(path));
}

/** Upper-case hex serial, as WeChat Pay writes it in Wechatpay-Serial and serial_no. */
export function certificateSerial(cert: X509Certificate): string {
  // DER adds a 00 byte before a serial whose high bit is set; WeChat Pay writes the 40-digit form.
  let serial = cert.serialNumber.toUpperCase();
  while (serial.length > 40 && serial.startsWith('00')) serial = serial.slice(2);
  return serial;
}
