import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { TokenService } from '../../src/auth/token.service';
import { beijingDayOf } from '../../src/common/beijing-day';
import { freePort } from '../../src/common/net';
import { buildAppConfig } from '../../src/config/app-config';
import { ProcessRefundsJob } from '../../src/refunds/process-refunds.job';
import { startTestApp, TEST_JWT_SECRET, TestApp } from '../support/app';
import { connect, createTestDatabase, TestDatabase } from '../support/db';
import { expectInvariants } from '../support/invariants';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { ServiceProcess, spawnService } from '../support/service-process';

const tokens = new TokenService(buildAppConfig({ JWT_SECRET: TEST_JWT_SECRET, DATA_DIR: tmpdir() }));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A refund sent with an Idempotency-Key, the service killed (SIGKILL) while WeChat Pay holds the
 * refund call, then the same request again: the retry answers with the first refund, and the money
 * goes back once, whatever the provider did with the first call.
 */
describe('SIGKILL while a refund is at the provider', () => {
  let sb: Sandbox;
  let db: TestDatabase;
  let pg: Client;
  let service: ServiceProcess | undefined;
  let restarted: TestApp | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-refund-crash-'));
  beforeAll(async () => {
    sb = await startTestSandbox();
    db = await createTestDatabase();
    pg = await connect(db.url);
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await restarted?.close();
    await pg?.end();
    await db?.drop();
    await sb?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the retry with the same key finds the first refund: one refund in the database and one at the provider', async () => {
    const port = await freePort();
    service = await spawnService({
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: db.url,
      ...providerEnv(sb, port),
      PORT: String(port),
    });
    const base = `http://127.0.0.1:${port}`;
    const created = await fetch(`${base}/api/v1/payment/create-order`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${tokens.sign('refund-crash')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ product_type: 'membership', product_id: 1, payment_method: 'wechat' }),
    });
    const order = (await created.json()) as { order_no: string; qr_code_url: string; amount: number };
    expect((await sandboxCall(sb, 'POST', '/sandbox/pay', { qr: order.qr_code_url })).body.delivered).toBe(true);
    await until('the order paid', async () => {
      const { rows } = await pg.query(`SELECT status FROM orders WHERE order_no = $1`, [order.order_no]);
      return rows[0]?.status === 'paid' ? true : undefined;
    });

    // WeChat Pay holds the next refund call; the service dies while it waits.
    await sandboxCall(sb, 'POST', '/sandbox/faults', { provider: 'wechat', op: 'refund', mode: 'hang', times: 1 });
    const amount = 500; // twice this fits in what was paid: only the key can tell a retry from a second refund
    const refundRequest = (url: string) =>
      fetch(`${url}/api/v1/admin/orders/${order.order_no}/refunds`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${tokens.sign('admin-1', undefined, { admin: true })}`,
          'Content-Type': 'application/json',
          'Idempotency-Key': 'refund-after-crash',
        },
        body: JSON.stringify({ amount, reason: 'asked once' }),
      });
    const first = refundRequest(base).then(
      (res) => `answered ${res.status}`,
      (e: Error) => e.message,
    );
    await until('the sandbox to hold the refund call', async () => {
      const { body } = await sandboxCall(sb, 'GET', '/sandbox/faults');
      return (body.faults ?? body).length === 0 ? true : undefined;
    });
    service.child.kill('SIGKILL');
    await service.exited;
    expect(await first).toBe('fetch failed'); // the caller never heard an answer

    // The service again, on the same database; the support tool sends the same request again.
    restarted = await startTestApp((p) => providerEnv(sb, p), { sharedDatabase: db });
    const retry = await until('the retry to be answered', async () => {
      const res = await refundRequest(restarted!.url);
      const body = (await res.json()) as Record<string, unknown>;
      // The dead process's session may take a moment to end at the database, with its lock.
      return body.code === 'IDEMPOTENCY_KEY_IN_FLIGHT' ? undefined : { status: res.status, body };
    });
    expect(retry.status).toBe(202);
    const { rows: refunds } = await pg.query(
      `SELECT r.refund_no, r.amount FROM refunds r JOIN orders o ON o.id = r.order_id WHERE o.order_no = $1`,
      [order.order_no],
    );
    expect(refunds).toEqual([{ refund_no: retry.body.refund_no, amount }]);

    // The refund job finds the first call left no refund at WeChat Pay and sends it again, same number.
    const job = restarted.app.get(ProcessRefundsJob);
    await until('the refund to succeed', async () => {
      await job.run(new Date(Date.now() + 3_600_000));
      const { rows } = await pg.query(`SELECT status FROM refunds WHERE refund_no = $1`, [retry.body.refund_no]);
      return rows[0].status === 'success' ? true : undefined;
    });
    const again = await refundRequest(restarted.url);
    expect(again.status).toBe(202);
    expect(((await again.json()) as { refund_no: string }).refund_no).toBe(retry.body.refund_no);

    const atProvider: { kind: string; out_trade_no: string; out_refund_no: string; amount_fen: number }[] = [];
    for (const day of new Set([beijingDayOf(new Date(Date.now() - 600_000)), beijingDayOf(new Date())])) {
      atProvider.push(...(await sandboxCall(sb, 'GET', `/sandbox/bills/wechat/${day}`)).body.rows);
    }
    const { rows: paidAttempt } = await pg.query(`SELECT payment_no FROM orders WHERE order_no = $1`, [order.order_no]);
    expect(atProvider.filter((r) => r.kind === 'refund' && r.out_trade_no === paidAttempt[0].payment_no)).toEqual([
      expect.objectContaining({ out_refund_no: retry.body.refund_no, amount_fen: amount }),
    ]);
    const { rows: orderRows } = await pg.query(`SELECT status, refunded_amount FROM orders WHERE order_no = $1`, [order.order_no]);
    expect(orderRows[0]).toEqual({ status: 'partially_refunded', refunded_amount: amount });
    await expectInvariants(pg);
  });
});
