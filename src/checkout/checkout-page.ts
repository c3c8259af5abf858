import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, type NextFunction, type Request, type Response } from 'express';
import { pageHeaders, webPageDir } from '../common/http/web-page';
import { dirname, join } from 'node:path';

const PAGE_DIR = webPageDir('checkout');
/** socket.io ships its browser client inside the server package; the page loads it from us, never a CDN. */
const SOCKET_IO_CLIENT_DIR = join(dirname(require.resolve('socket.io/package.json')), 'client-dist');

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
