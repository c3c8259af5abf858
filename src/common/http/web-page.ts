import type { Response } from 'express';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder of package.json: the checkout, or the image's /app. Looked up rather than counted from
 * here, because this file runs from src/ (ts-node, Jest) and from dist/src/ (the build).
 */
function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

/** A page's folder under web/: its files are served as written (plain ES modules and CSS), nothing is built. */
export const webPageDir = (name: string): string => join(packageRoot(__dirname), 'web', name);

/**
 * The pages' policy, stricter than helmet's default for the API: only our own origin, no inline
 * script or style, no frames, and no upgrade-insecure-requests (a development server on
 * http://<LAN address> would otherwise have every script upgraded to an https URL nobody serves).
 * data: images are the QR codes; the console saves its CSV export from a blob it fetched itself.
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

/** The headers of every file of a page (its static files and its index). */
export function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  // Revalidated on every load (ETag), so a changed page is seen at once after a restart.
  res.setHeader('Cache-Control', 'no-cache');
  // A page's address may carry a token in its fragment; a fragment is never sent, and no address of
  // a page is passed on to another site either.
  res.setHeader('Referrer-Policy', 'no-referrer');
}
