import type { NestExpressApplication } from '@nestjs/platform-express';
import { static as serveStatic, type NextFunction, type Request, type Response } from 'express';
import { pageHeaders, webPageDir } from '../common/http/web-page';

const PAGE_DIR = webPageDir('admin');
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
