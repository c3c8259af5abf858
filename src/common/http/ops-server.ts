import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** What only operators need: the Prometheus scrape and the API documentation. */
const OPS_PATH = /^\/(metrics|api\/docs)(\/|-json|$)/;
const viaOpsPort = new WeakSet<IncomingMessage>();

/**
 * With OPS_PORT set, the API port answers 404 for the operators' paths, exactly as for a path that
 * does not exist, so the internet-facing port carries only the API and the provider callbacks.
 */
export function opsOnlyMiddleware(req: Request, res: Response, next: NextFunction): void {
  if (OPS_PATH.test(req.path) && !viaOpsPort.has(req)) {
    res.status(404).json({
      statusCode: 404,
      code: 'NOT_FOUND',
      message: `Cannot ${req.method} ${req.path}`,
      requestId: (req as Request & { id?: string }).id,
    });
    return;
  }
  next();
}

/**
 * Serves the operators' paths on OPS_PORT, through the same Express application (same metrics
 * registry, same documents); every other path there is a 404.
 */
export function listenOps(app: INestApplication, port: number, host: string): Promise<Server> {
  const express = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: unknown) => void;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!OPS_PATH.test(path)) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ statusCode: 404, code: 'NOT_FOUND', message: 'Only /metrics and /api/docs are served here' }));
      return;
    }
    viaOpsPort.add(req);
    express(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
