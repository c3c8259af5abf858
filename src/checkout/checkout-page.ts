import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, type NextFunction, type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder of package.json: the checkout, or the image's /app. Looked up rather than counted from
 * here, because this file runs from src/checkout/ (ts-node, Jest) and from dist/src/checkout/ (the build).
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The page's files are served as written (plain ES modules and CSS): there is nothing to build. */
const PAGE_DIR = join(packageRoot(__dirname), 'web', 'checkout');
/** socket.io ships its browser client inside the server package; the page loads it from us, never a CDN. */
const SOCKET_IO_CLIENT_DIR = join(dirname(require.resolve('socket.io/package.json')), 'client-dist');

/**
 * Stricter than helmet's default for the API, and without its upgrade-insecure-requests: a
 * development server on http://<LAN address> would otherwise have every script upgraded to an
 * https URL nobody serves (browsers other than Chromium exempt only localhost).
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  // Revalidated on every load (ETag), so a changed page is seen at once after a restart.
  res.setHeader('Cache-Control', 'no-cache');
}

/**
 * `GET /` is the checkout page; its files are under `/checkout/`. Only those paths touch the file
 * system: API requests never pass through the static handler.
 */
export function serveCheckoutPage(app: Pick<NestExpressApplication, 'use'>, pageDir = PAGE_DIR): void {
  const assets = serveStatic(pageDir, { index: false, redirect: false, setHeaders: pageHeaders });
  app.use('/checkout/vendor/socket.io', serveStatic(SOCKET_IO_CLIENT_DIR, { index: false, redirect: false, setHeaders: pageHeaders }));
  app.use('/checkout', assets);
  app.use('/', (req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path !== '/') return next();
    pageHeaders(res);
    // Relative to `root`: given an absolute path, send refuses any path with a dot-named folder in
    // it (a checkout under ~/.local or a CI cache); with a root only the part below it is checked.
    res.sendFile('index.html', { root: pageDir }, (err) => err && next(err));
  });
}
