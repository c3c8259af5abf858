import express from 'express';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { serveCheckoutPage } from './checkout-page';

describe('the checkout page from a checkout under a dot-named folder', () => {
  // A clone under ~/.local/… or a CI cache: the page's files sit below a folder whose name starts with a dot.
  const base = mkdtempSync(join(tmpdir(), 'memberpay-page-'));
  const pageDir = join(base, '.cache', 'memberpay', 'web', 'checkout');
  cpSync(join(__dirname, '..', '..', 'web', 'checkout'), pageDir, { recursive: true });
  const app = express();
  serveCheckoutPage(app as never, pageDir);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('serves the page at / and its files under /checkout/', async () => {
    const page = await request(app).get('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toMatch(/<html/i);
    const script = /src="\/checkout\/([^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    expect((await request(app).get(`/checkout/${script}`)).status).toBe(200);
  });

  it('still refuses dot-named files below the page folder', async () => {
    expect((await request(app).get('/checkout/.hidden')).status).toBe(404);
  });
});
