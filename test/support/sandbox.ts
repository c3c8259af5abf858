import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, startSandbox } from '../../sandbox';
import { memberpayEnv } from '../../sandbox/env';

export type { Sandbox };

/**
 * The local WeChat Pay + Alipay emulator for one test file (resend schedules compressed 1000×).
 * Its key files live in a temporary folder removed when it closes.
 */
export async function startTestSandbox(): Promise<Sandbox> {
  const keyDir = mkdtempSync(join(tmpdir(), 'memberpay-sandbox-'));
  const sb = await startSandbox({ port: 0, keyDir, timeScale: 0.001 });
  const close = sb.close.bind(sb);
  return Object.assign(sb, {
    close: async () => {
      await close();
      rmSync(keyDir, { recursive: true, force: true });
    },
  });
}

/** The service's provider configuration pointing at the sandbox, as an operator would set it. */
export function providerEnv(sb: Sandbox, appPort: number, which: { wechat?: boolean; alipay?: boolean } = { wechat: true, alipay: true }) {
  return { ...memberpayEnv(sb.credentials, String(appPort), { wechat: !!which.wechat, alipay: !!which.alipay }), PAYMENT_SANDBOX: '1' };
}

/** Control calls to the sandbox (pay, faults, trade state). */
export async function sandboxCall(sb: Sandbox, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sb.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}
