import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a production webhook may not reach: loopback, private, carrier-grade NAT (which holds
 * Alibaba Cloud's metadata address 100.100.100.200), link-local (which holds 169.254.169.254, the
 * metadata address of most clouds), unspecified, multicast and reserved ranges, in IPv4 and IPv6.
 * Node's BlockList also matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules
 * (docs/webhooks.md#blocked-addresses, docs/webhooks.md#nodes-blocklist-and-lookup).
 */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  BLOCKED.addSubnet(net, prefix, 'ipv6');

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (!family) return true;
  return BLOCKED.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export class WebhookUrlRefused extends Error {
  readonly code = 'EWEBHOOKURL';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Where webhooks may go. In production: https only, and the host must not resolve to an address
 * above, checked when the request connects (the address checked is the address used, so a name
 * that resolves elsewhere later cannot slip through). Elsewhere anything http(s), so that a
 * receiver can run beside `npm start` on 127.0.0.1.
 */
export class WebhookUrlPolicy {
  constructor(readonly production: boolean) {}

  /** What is wrong with a URL as saved (null: acceptable); the addresses are checked again at send time. */
  problem(raw: string): string | null {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'url must be an absolute http(s) URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'url must be an http(s) URL';
    if (url.username || url.password) return 'url must not carry credentials';
    if (url.hash) return 'url must not have a fragment';
    if (!this.production) return null;
    if (url.protocol !== 'https:') return 'url must be https';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && isBlockedAddress(host)) return 'url must not point at a loopback, private, link-local or metadata address';
    if (host === 'localhost' || host.endsWith('.localhost')) return 'url must not point at this machine';
    return null;
  }

  /** Refuses the URL now (a literal address needs no look-up, so Node would never call `lookup`). */
  checkAtSend(url: URL): void {
    const problem = this.problem(url.href);
    if (problem) throw new WebhookUrlRefused(problem);
  }

  /** `lookup` for http.request: resolves as Node would, refusing blocked addresses in production. */
  readonly lookup = (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      const usable = this.production ? addresses.filter((a) => !isBlockedAddress(a.address)) : addresses;
      if (this.production && usable.length < addresses.length) {
        // One blocked address is enough to refuse: a name mixing public and private addresses is
        // how a rebinding attack picks which one a request uses.
        return callback(new WebhookUrlRefused(`${hostname} resolves to a loopback, private, link-local or metadata address`), []);
      }
      if (!usable.length) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (options.all) return callback(null, usable);
      callback(null, usable[0].address, usable[0].family);
    });
  };
}
