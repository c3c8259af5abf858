// Public API of the payment-provider sandbox: start a WeChat Pay v3 + Alipay emulator on loopback
// and get the credentials a memberpay instance needs to talk to it. See sandbox/README.md.
import type { AddressInfo } from 'node:net';
import { BillDownloads } from './bills/downloads';
import { BillTweaks } from './bills/tweaks';
import { FaultBook } from './faults';
import { loadOrCreateKeySet } from './key-files';
import { generateKeySet, toSandboxKeys, type SandboxKeys } from './keys';
import { Notifier } from './notifier';
import { createSandboxServer } from './server';
import { Store } from './store';

export interface SandboxOptions {
  /** 0 = a random free port (default). */
  port?: number;
  /** Default '127.0.0.1' (loopback only). */
  host?: string;
  /** Load keys from here, or generate and persist them here; unset = in memory only. */
  keyDir?: string;
  /** Multiplies the notification resend schedules (tests use e.g. 0.001). Default 1. */
  timeScale?: number;
  /** How long a notification POST may take before it counts as failed. Default 5000. */
  notifyTimeoutMs?: number;
  /** Default: no logging. */
  log?: (line: string) => void;
  /** Do not keep the process alive (server, connections, resend timers). Used by launch.ts. */
  unref?: boolean;
}

export interface SandboxCredentials {
  wechat: {
    baseUrl: string;
    appId: string;
    /** The mobile app's id (APP channel) and the mini program's (JSAPI besides appId). */
    appAppId: string;
    miniProgramAppId: string;
    mchId: string;
    apiV3Key: string;
    /** The API v2 key: signs the contract (papay) calls and callbacks. */
    apiV2Key: string;
    /** Contract template ids by plan code, for templates where WeChat notifies the member and where the merchant does. */
    papayPlans: { wechat: Record<string, string>; merchant: Record<string, string> };
    merchantPrivateKeyPem: string;
    merchantCertPem: string;
    merchantCertSerial: string;
    publicKeyId: string;
    publicKeyPem: string;
    platformCertPem: string;
    platformCertSerial: string;
    merchantPrivateKeyPath?: string;
    merchantCertPath?: string;
    publicKeyPath?: string;
    platformCertPath?: string;
  };
  alipay: {
    gateway: string;
    appId: string;
    sellerId: string;
    appPrivateKeyPem: string;
    alipayPublicKeyPem: string;
    appPrivateKeyPath?: string;
    alipayPublicKeyPath?: string;
  };
}

export interface Sandbox {
  url: string;
  port: number;
  credentials: SandboxCredentials;
  close(): Promise<void>;
}

/** The credentials of a sandbox with these keys at this URL (also for a command that talks to a running one). */
export function credentialsOf(keys: SandboxKeys, url: string): SandboxCredentials {
  const { pems } = keys.set;
  const paths = keys.paths;
  return {
    wechat: {
      baseUrl: url,
      appId: keys.wechat.appId,
      appAppId: keys.wechat.appAppId,
      miniProgramAppId: keys.wechat.miniProgramAppId,
      mchId: keys.wechat.mchId,
      apiV3Key: keys.wechat.apiV3Key,
      apiV2Key: keys.wechat.apiV2Key,
      papayPlans: keys.wechat.papayPlans,
      merchantPrivateKeyPem: pems.merchantKey,
      merchantCertPem: pems.merchantCert,
      merchantCertSerial: keys.wechat.merchantCertSerial,
      publicKeyId: keys.wechat.publicKeyId,
      publicKeyPem: pems.wechatpayPublicKey,
      platformCertPem: pems.platformCert,
      platformCertSerial: keys.wechat.platformCertSerial,
      ...(paths
        ? {
            merchantPrivateKeyPath: paths.merchantKey,
            merchantCertPath: paths.merchantCert,
            publicKeyPath: paths.wechatpayPublicKey,
            platformCertPath: paths.platformCert,
          }
        : {}),
    },
    alipay: {
      gateway: `${url}/gateway.do`,
      appId: keys.alipay.appId,
      sellerId: keys.alipay.sellerId,
      appPrivateKeyPem: pems.appPrivateKey,
      alipayPublicKeyPem: pems.alipayPublicKey,
      ...(paths ? { appPrivateKeyPath: paths.appPrivateKey, alipayPublicKeyPath: paths.alipayPublicKey } : {}),
    },
  };
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? (() => undefined);
  const loaded = opts.keyDir ? await loadOrCreateKeySet(opts.keyDir) : { set: await generateKeySet(), paths: undefined };
  const keys = toSandboxKeys(loaded.set, loaded.paths);
  const notifier = new Notifier({
    timeScale: opts.timeScale ?? 1,
    timeoutMs: opts.notifyTimeoutMs ?? 5000,
    log,
    unref: opts.unref ?? false,
  });
  const ctx = {
    keys,
    store: new Store(),
    faults: new FaultBook(),
    billTweaks: new BillTweaks(),
    billDownloads: new BillDownloads(),
    notifier,
    log,
    url: '',
  };
  const server = createSandboxServer(ctx, opts.unref ?? false);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  ctx.url = url;
  log(`[sandbox] listening on ${url}`);
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    credentials: credentialsOf(keys, url),
    close() {
      closing ??= new Promise<void>((resolve) => {
        notifier.close();
        server.close(() => resolve());
        // Also ends keep-alive connections and requests left hanging by the `hang` fault.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
