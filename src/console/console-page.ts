import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, type NextFunction, type Request, type Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder of package.json: the checkout, or the image's /app. Looked up rather than counted from
 * here, because this file runs from src/console/ (ts-node, Jest) and from dist/src/console/ (the build).
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** The console's files are served as written (plain ES modules and CSS): there is nothing to build. */
const PAGE_DIR = join(packageRoot(__dirname), 'web', 'admin');

/**
 * As the checkout page's: only our own origin, no inline script or style, no frames, and no
 * upgrade-insecure-requests (a development server on http://<LAN address> serves no https).
 * blob: is for the CSV export, which the page receives with its bearer token and saves as a file.
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
  // The console's address may carry a token in its fragment; a fragment is never sent, and no
  // address of this page is passed on to another site either.
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/**
 * `GET /admin/` is the support console; its files are under `/admin/`. Only those paths touch the
 * file system: API requests never pass through the static handler. index.html is sent relative to
 * its folder (`root`), so a checkout under a dot-named folder serves it too
 * (docs/stack.md#express-sendfile-and-dot-named-folders).
 */
export function serveConsolePage(app: NestExpressApplication): void {
  const assets = serveStatic(PAGE_DIR, { index: false, redirect: false, setHeaders: pageHeaders });
  app.use('/admin', (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    // /admin → /admin/, so that the page's relative module paths resolve under /admin/.
    if (req.originalUrl === '/admin' || req.originalUrl.startsWith('/admin?'))
      return res.redirect(301, `/admin/${req.originalUrl.slice(6)}`);
    if (req.path !== '/') return assets(req, res, next);
    pageHeaders(res);
    res.sendFile('index.html', { root: PAGE_DIR }, (err) => err && next(err));
  });
}
