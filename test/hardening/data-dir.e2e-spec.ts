import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../../src/common/net';
import { runServiceToExit, ServiceProcess, spawnService } from '../support/service-process';

const pgDirOf = (output: string) => /PostgreSQL data in (\S+)/.exec(output)![1];

/** Two services on one DATA_DIR, and the embedded databases left behind by DATA_DIRs that are gone. */
describe('the embedded database of a DATA_DIR', () => {
  // mkdtemp makes a folder only root may enter: as root, the database lives in a stand-in folder.
  const first = mkdtempSync(join(tmpdir(), 'memberpay-datadir-a-'));
  const second = mkdtempSync(join(tmpdir(), 'memberpay-datadir-b-'));
  const pgDirs: string[] = [];
  let running: ServiceProcess | undefined;
  afterAll(async () => {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await running.exited;
    }
    for (const d of [first, second]) rmSync(d, { recursive: true, force: true });
    for (const p of pgDirs) if (p.startsWith('/var/tmp/')) rmSync(dirname(p), { recursive: true, force: true });
  });

  it("a second start on a DATA_DIR whose service still runs refuses, naming that service's pid, and leaves it running", async () => {
    running = await spawnService({ DATA_DIR: first, PORT: String(await freePort()) });
    pgDirs.push(pgDirOf(running.output()));
    const { code, output } = await runServiceToExit({ DATA_DIR: first, PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(output).toContain(`in use by another memberpay service (pid ${running.child.pid}) that is still running`);
    expect(output).not.toMatch(/Stopping a stale embedded PostgreSQL/);
    expect((await fetch(`http://127.0.0.1:${running.port}/health`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${running.port}/api/v1/membership/plans`)).status).toBe(200);
  });

  (userInfo().uid === 0 ? it : it.skip)(
    'a stand-in folder under /var/tmp is removed at a start once its DATA_DIR no longer exists',
    async () => {
      const standIn = dirname(pgDirs[0]);
      expect(standIn).toMatch(/^\/var\/tmp\/memberpay-data-/);
      expect(readFileSync(join(standIn, 'data-dir'), 'utf8').trim()).toBe(first);
      running!.child.kill('SIGTERM');
      expect(await running!.exited).toBe(0);
      expect(existsSync(join(first, 'service.pid'))).toBe(false); // released on a clean stop
      rmSync(first, { recursive: true, force: true });

      running = await spawnService({ DATA_DIR: second, PORT: String(await freePort()) });
      pgDirs.push(pgDirOf(running.output()));
      expect(existsSync(standIn)).toBe(false);
      // Any embedded start sweeps stand-ins whose DATA_DIR is gone, so another test file starting one in
      // parallel may have removed it first; when this start did, it says which DATA_DIR it belonged to.
      const removed = /Removed (\S+), the embedded PostgreSQL of (\S+), which no longer exists/.exec(running.output());
      if (removed?.[1] === standIn) expect(removed[2]).toBe(first);
      expect(existsSync(dirname(pgDirs[1]))).toBe(true); // its own, whose DATA_DIR exists, stays
    },
  );
});
