// Bill files handed out by the apply APIs, each behind a random token that expires like the
// providers' URLs (about 30 s; docs/reconciliation.md).
import { randomHex } from '../ids';

const TTL_MS = 30_000;

export class BillDownloads {
  private readonly files = new Map<string, { bytes: Buffer; expiresAt: number }>();

  put(bytes: Buffer, now: Date): string {
    for (const [token, file] of this.files) if (file.expiresAt < now.getTime()) this.files.delete(token);
    const token = randomHex(16);
    this.files.set(token, { bytes, expiresAt: now.getTime() + TTL_MS });
    return token;
  }

  take(token: string, now: Date): Buffer | undefined {
    const file = this.files.get(token);
    return file && file.expiresAt >= now.getTime() ? file.bytes : undefined;
  }
}
