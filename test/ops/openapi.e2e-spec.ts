import { TestApp } from '../support/app';
import { useApp } from '../support/lifecycle';

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
