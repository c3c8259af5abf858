import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port free on loopback right now, for a server started next (the embedded PostgreSQL, or a
 * test's or the bench's service). Another process may still take it in between: callers that can
 * listen on port 0 themselves should.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const LOOPBACK_URL = /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/|$)/;

/** True for an http(s) URL on this machine's loopback (127.0.0.0/8, localhost, [::1]), such as the local sandbox's. */
export function isLoopbackUrl(url: string): boolean {
  return LOOPBACK_URL.test(url);
}
