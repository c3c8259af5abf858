// Persists the sandbox keys under a directory so that a memberpay instance keeps working across
// sandbox restarts. Public halves and memberpay's own private keys get names memberpay's config
// points at; the sandbox's private halves are prefixed `internal-` and must never be configured
// in memberpay.
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeySet, type KeySet, type PemName } from './keys';
import { randomAlnum } from './ids';

const META_FILE = 'sandbox-keys.json';
const LOCK_FILE = '.generating.lock';
const FORMAT_VERSION = 1;

const FILES: Record<PemName, string> = {
  merchantKey: 'wechatpay-apiclient_key.pem',
  merchantCert: 'wechatpay-apiclient_cert.pem',
  wechatpayPublicKey: 'wechatpay-pub_key.pem',
  platformCert: 'wechatpay-platform_cert.pem',
  appPrivateKey: 'alipay-app_private_key.pem',
  alipayPublicKey: 'alipay-alipay_public_key.pem',
  wechatpayPrivateKey: 'internal-wechatpay-pub_key-private.pem',
  platformPrivateKey: 'internal-wechatpay-platform-private.pem',
  alipayPrivateKey: 'internal-alipay-private.pem',
};

const PUBLIC_FILES: PemName[] = ['merchantCert', 'wechatpayPublicKey', 'platformCert', 'alipayPublicKey'];

interface Meta {
  version: number;
  apiV3Key: string;
  /** Absent in key directories made before contracts were emulated: added on load. */
  apiV2Key?: string;
  merchantCertSerial: string;
  publicKeyId: string;
  platformCertSerial: string;
}

function keyPaths(dir: string): Record<PemName, string> {
  return Object.fromEntries(Object.entries(FILES).map(([name, file]) => [name, join(dir, file)])) as Record<PemName, string>;
}

async function load(dir: string): Promise<KeySet | null> {
  const metaPath = join(dir, META_FILE);
  if (!existsSync(metaPath)) return null;
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as Meta;
  if (meta.version !== FORMAT_VERSION) return null;
  const paths = keyPaths(dir);
  if (!Object.values(paths).every((p) => existsSync(p))) return null;
  const entries = await Promise.all(Object.entries(paths).map(async ([name, p]) => [name, await readFile(p, 'utf8')] as const));
  const { version: _version, ...ids } = meta;
  const set = { ...ids, apiV2Key: ids.apiV2Key ?? randomAlnum(32), pems: Object.fromEntries(entries) as Record<PemName, string> };
  if (!ids.apiV2Key) await writeAtomically(metaPath, `${JSON.stringify({ ...meta, apiV2Key: set.apiV2Key }, null, 2)}\n`, 0o600);
  return set;
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await rename(tmp, path);
}

async function save(dir: string, set: KeySet): Promise<void> {
  const paths = keyPaths(dir);
  for (const [name, path] of Object.entries(paths) as [PemName, string][]) {
    await writeAtomically(path, set.pems[name], PUBLIC_FILES.includes(name) ? 0o644 : 0o600);
  }
  const meta: Meta = {
    version: FORMAT_VERSION,
    apiV3Key: set.apiV3Key,
    apiV2Key: set.apiV2Key,
    merchantCertSerial: set.merchantCertSerial,
    publicKeyId: set.publicKeyId,
    platformCertSerial: set.platformCertSerial,
  };
  // Written last: its presence means the whole set is on disk.
  await writeAtomically(join(dir, META_FILE), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads the key set from `dir`, or generates and saves one. A lock file keeps two processes that
 * start at once from interleaving two different sets; a lock older than ~15 s is taken as stale.
 */
export async function loadOrCreateKeySet(dir: string): Promise<{ set: KeySet; paths: Record<PemName, string> }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = keyPaths(dir);
  const lockPath = join(dir, LOCK_FILE);
  for (let waited = 0; ; waited += 100) {
    const existing = await load(dir);
    if (existing) return { set: existing, paths };
    try {
      const lock = await open(lockPath, 'wx');
      try {
        const set = await generateKeySet();
        await save(dir, set);
        return { set, paths };
      } finally {
        await lock.close();
        await unlink(lockPath).catch(() => undefined);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (waited >= 15_000) await unlink(lockPath).catch(() => undefined);
      await sleep(100);
    }
  }
}
