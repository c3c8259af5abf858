import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { TokenService } from '../../src/auth/token.service';
import { freePort } from '../../src/common/net';
import { connect, createTestDatabase, TestDatabase } from './db';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestApp {
  app: INestApplication;
  url: string;
  http: ReturnType<typeof request>;
  db: Client;
  database: TestDatabase;
  dataDir: string;
  token(userId: string): string;
  /** A token with `role: "admin"` (support staff). */
  adminToken(userId: string): string;
  /** A token with `role: "service"` (another backend), naming the service. */
  serviceToken(name: string): string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** A second instance of the service runs on the first one's database, which that one drops. */
  sharedDatabase?: TestDatabase;
  /** Rewrites the URL the service uses (e.g. through a TCP proxy); the test's own client stays direct. */
  databaseUrl?: (url: string) => string;
}

/**
 * The real application on its own database, listening on a random port (provider sandboxes
 * post notifications to it, socket.io clients connect to it).
 */
export async function startTestApp(
  env: Record<string, string | undefined> | ((port: number) => Record<string, string | undefined>) = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const database = options.sharedDatabase ?? (await createTestDatabase());
  const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-app-'));
  // The port is chosen first: provider notify URLs name it in the configuration.
  const port = await freePort();
  const extra = typeof env === 'function' ? env(port) : env;
  const app = await createApp({
    logger: false,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: options.databaseUrl?.(database.url) ?? database.url,
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      PORT: String(port),
      ...extra,
    },
  });
  await app.listen(port, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const db = await connect(database.url);
  const tokens = app.get(TokenService);
  return {
    app,
    url,
    db,
    database,
    dataDir,
    http: request(app.getHttpServer()),
    token: (userId) => tokens.sign(userId),
    adminToken: (userId) => tokens.sign(userId, undefined, { admin: true }),
    serviceToken: (name) => tokens.sign(name, undefined, { service: true }),
    async close() {
      await db.end();
      await app.close();
      if (!options.sharedDatabase) await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
