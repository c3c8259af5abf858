import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beijingDayOf } from '../../src/common/beijing-day';
import { runningEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { main } from '../../src/reconciliation/reconcile.cli';
import { TEST_JWT_SECRET } from '../support/app';
import { useApp } from '../support/lifecycle';
import { createOrder, payAtSandbox } from '../support/orders';
import { providerEnv, Sandbox, sandboxCall, startTestSandbox } from '../support/sandbox';
import { spawnService } from '../support/service-process';

const today = beijingDayOf(new Date());

/** Runs the command as ops would, collecting what it prints. */
async function reconcile(argv: string[], env: Record<string, string | undefined>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await main(argv, { NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_SECRET: TEST_JWT_SECRET, ...env }, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('npm run reconcile', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(async () => {
    await sb?.close();
  });

  describe('against DATABASE_URL', () => {
    const { t } = useApp((port) => providerEnv(sb, port));

    it('settles the dropped payment, prints every discrepancy and exits 1 while one is open', async () => {
      const dropped = await createOrder(t, 'cli-1');
      await payAtSandbox(sb, dropped.qr_code_url, { delivery: 'drop' });
      const differs = await createOrder(t, 'cli-2');
      await payAtSandbox(sb, differs.qr_code_url);
      const {
        rows: [{ payment_no: differsNo }],
      } = await t.db.query('SELECT payment_no FROM orders WHERE order_no = $1', [differs.order_no]);
      await sandboxCall(sb, 'POST', '/sandbox/bills/tweaks', { provider: 'wechat', out_trade_no: differsNo, amount_fen: 1 });
      const env = { ...providerEnv(sb, 1), DATABASE_URL: t.database.url, DATA_DIR: t.dataDir };

      const first = await reconcile(['--date', today, '--provider', 'wechat'], env);
      expect(first.code).toBe(1);
      expect(first.out).toContain(`wechat ${today}: 2 bill row(s), bill SHA1 `);
      expect(first.out).toContain('matched 0, missing locally 1, missing at the provider 0, amount mismatch 1, status mismatch 0; open 1');
      expect(first.out).toMatch(/missing_locally +payment MP\w+ .*\[settled by reconciliation\]/);
      expect(first.out).toMatch(
        new RegExp(`amount_mismatch +payment ${differsNo} +ours ${differs.amount} fen success, theirs 1 fen SUCCESS +\\[OPEN\\]`),
      );
      expect((await t.db.query('SELECT status FROM orders WHERE order_no = $1', [dropped.order_no])).rows[0].status).toBe('paid');

      await sandboxCall(sb, 'DELETE', '/sandbox/bills/tweaks');
      const second = await reconcile([`--date=${today}`], env);
      expect(second.code).toBe(0);
      expect(second.out).toContain('matched 2, missing locally 0');
      expect(second.out).toContain(`alipay ${today}: 0 bill row(s)`);
    });

    it('refuses bad arguments with the usage and exit status 2', async () => {
      for (const argv of [
        [],
        ['--date', '2026-02-30'],
        ['--date', today, '--provider', 'paypal'],
        ['--day', today],
        ['--date', today, 'extra'],
      ]) {
        const result = await reconcile(argv, { DATABASE_URL: t.database.url });
        expect([argv, result.code, result.out]).toEqual([
          argv,
          2,
          expect.stringContaining('usage: npm run reconcile -- --date YYYY-MM-DD'),
        ]);
      }
    });
  });

  it('prints its usage for --help, exit status 0', async () => {
    const lines: string[] = [];
    expect(await main(['--help'], {}, (l) => lines.push(l))).toBe(0);
    expect(lines.join('\n')).toMatch(/^usage: npm run reconcile -- --date YYYY-MM-DD/);
  });

  describe('on the embedded database', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-cli-'));
    let pgDir: string | undefined;
    // A sandbox of its own: this database has none of the other tests' payments.
    let own: Sandbox;
    beforeAll(async () => {
      own = await startTestSandbox();
    });
    afterAll(async () => {
      await own?.close();
      rmSync(dataDir, { recursive: true, force: true });
      if (pgDir) rmSync(dirname(pgDir), { recursive: true, force: true });
    });

    it("uses the running service's server, and starts (then stops) one only when none runs", async () => {
      const env = { ...providerEnv(own, 1, { wechat: true }), DATA_DIR: dataDir };
      const service = await spawnService({ ...env, NODE_ENV: 'test', JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'info' });
      try {
        const running = runningEmbeddedPostgres(dataDir);
        expect(running).not.toBeNull();
        pgDir = running!.pgData;
        const attached = await reconcile(['--date', today], env);
        expect(attached).toMatchObject({
          code: 0,
          out: expect.stringContaining('Using the embedded PostgreSQL the running service started'),
        });
        // The service's server is untouched: same postmaster, still serving.
        expect(runningEmbeddedPostgres(dataDir)?.pid).toBe(running!.pid);
        expect((await fetch(`http://127.0.0.1:${service.port}/health`)).status).toBe(200);
      } finally {
        service.child.kill('SIGTERM');
        await service.exited;
      }
      expect(runningEmbeddedPostgres(dataDir)).toBeNull();
      const alone = await reconcile(['--date', today], env);
      expect(alone).toMatchObject({ code: 0, out: expect.stringContaining('Started the embedded PostgreSQL for this command') });
      expect(alone.out).toContain(`wechat ${today}: 0 bill row(s)`);
      expect(runningEmbeddedPostgres(dataDir)).toBeNull();
    }, 240_000); // a service process and two embedded starts: slow on a loaded machine
  });
});
