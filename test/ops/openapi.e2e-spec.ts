import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestApp } from '../support/app';
import { useApp } from '../support/lifecycle';

const ROOT = join(__dirname, '..', '..');

/** The routes Express actually serves, as "METHOD /path/{param}". */
function servedRoutes(t: TestApp): string[] {
  const express = t.app.getHttpAdapter().getInstance();
  const stack: any[] = (express.router ?? express._router).stack;
  return stack
    .filter((l) => l.route)
    .flatMap((l) => Object.keys(l.route.methods).map((m) => `${m.toUpperCase()} ${String(l.route.path).replace(/:(\w+)/g, '{$1}')}`));
}

describe('OpenAPI', () => {
  const { t } = useApp();

  it('documents every route the application serves', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const served = servedRoutes(t).filter((r) => !r.includes('/api/docs') && !r.includes('*')); // '*' is Nest's not-found handler
    expect(served.length).toBeGreaterThan(10);
    expect(documented.sort()).toEqual(expect.arrayContaining(served.sort()));
  });

  it('names each operation as a generated client would call it, and carries the package version', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap((ops) =>
      Object.values(ops).map((o) => o.operationId),
    );
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    expect(doc.paths['/api/v1/payment/create-order'].post.operationId).toBe('createOrder');
    expect(doc.paths['/api/v1/payment/orders/{order_no}'].get.operationId).toBe('getOrder');
    expect(doc.info.version).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('is written to a file by `npm run openapi`, without a database or a provider', () => {
    const dir = mkdtempSync(join(tmpdir(), 'memberpay-openapi-'));
    try {
      const out = join(dir, 'openapi.json');
      const run = spawnSync(process.execPath, ['-r', 'ts-node/register', 'scripts/openapi.ts', '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH: process.env.PATH!, TS_NODE_TRANSPILE_ONLY: '1' },
        timeout: 120_000,
      });
      expect([run.status, run.stderr]).toEqual([0, '']);
      const doc = JSON.parse(readFileSync(out, 'utf8'));
      expect(doc.paths['/api/v1/payment/create-order'].post.operationId).toBe('createOrder');
      expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes the auth scheme, the error format and the WebSocket events', async () => {
    const doc = (await t.http.get('/api/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.ErrorBody.properties).toEqual(
      expect.objectContaining({ statusCode: expect.anything(), code: expect.anything(), requestId: expect.anything() }),
    );
    expect(doc.paths['/api/v1/payment/create-order'].post.responses['409'].description).toMatch(/IDEMPOTENCY_KEY_REUSED/);
    expect(doc.info.description).toMatch(/order\.paid/);
    await t.http.get('/api/docs').expect(200).expect('content-type', /html/);
  });
});
