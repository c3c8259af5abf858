import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

type Trust = (addr: string, hop: number) => boolean;

/**
 * The client's address for a raw request (a socket.io handshake) under the same TRUST_PROXY rule
 * Express applies to req.ip: proxy-addr is the library Express itself uses, so both agree.
 */
export function trustFunction(setting: boolean | number | string[]): Trust {
  if (setting === true) return () => true;
  if (setting === false) return () => false;
  if (typeof setting === 'number') return (_addr, hop) => hop < setting;
  return proxyaddr.compile(setting);
}

export function clientAddress(req: IncomingMessage, trust: Trust): string {
  return proxyaddr(req, trust);
}
