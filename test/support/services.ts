import type { INestApplicationContext, Type } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from 'pg';
import { AppConfigModule } from '../../src/config/config.module';
import { DatabaseModule } from '../../src/database/database.module';
import { MembershipModule } from '../../src/membership/membership.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { PaidOrdersModule } from '../../src/orders/paid-orders.module';
import { PaymentsModule } from '../../src/payments/payments.module';
import { RefundsModule } from '../../src/refunds/refunds.module';
import { TEST_JWT_SECRET } from './app';
import { connect, createTestDatabase, TestDatabase } from './db';
import { withInvariants } from './lifecycle';

export interface TestServices {
  /** A service (or repository) of the modules, as Nest built it. */
  get<T>(type: Type<T>): T;
  /** A direct connection, for assertions and for holding locks the way another transaction would. */
  db: Client;
  database: TestDatabase;
}

/**
 * The medium test layer: the money paths' own modules (membership, payments and its settlement,
 * orders' fulfilment, refunds) from the Nest testing module, with the real repositories on a fresh
 * database, and no HTTP server, no provider and no sandbox. Calls go straight to the services, so a
 * spec can run them concurrently and hold locks between their statements. The invariants are
 * checked after each test, as for every e2e spec.
 */
export function useServices(): TestServices {
  let context: INestApplicationContext | undefined;
  let db: Client | undefined;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'memberpay-medium-'));
    const moduleRef = await Test.createTestingModule({
      imports: [
        await AppConfigModule.forRoot({
          env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: database.url, DATA_DIR: dataDir, JWT_SECRET: TEST_JWT_SECRET },
        }),
        DatabaseModule,
        EventEmitterModule.forRoot(),
        MetricsModule,
        MembershipModule,
        PaymentsModule,
        PaidOrdersModule,
        RefundsModule,
      ],
    }).compile();
    moduleRef.useLogger(false);
    context = await moduleRef.init();
    db = await connect(database.url);
  });
  withInvariants(() => db);
  afterAll(async () => {
    await db?.end();
    await context?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    get: <T>(type: Type<T>) => context!.get(type, { strict: false }),
    get db() {
      return db!;
    },
    get database() {
      return database!;
    },
  };
}
