import {
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../../src/common/net';
import { removeOrphanedStandIns, standInOf, writeNewFile } from '../../src/database/embedded-postgres';
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

/**
 * As root, the stand-in folder of a DATA_DIR the postgres user cannot reach has a predictable
 * name in /var/tmp, where anybody may create folders: one made by somebody else, or links in it,
 * must never make root write through them or read a password from them.
 */
describe('the stand-in folder under /var/tmp, as root', () => {
  const rootOnly = userInfo().uid === 0 ? it : it.skip;
  const NOBODY = 65534;
  const cleanup: string[] = [];
  afterAll(() => {
    for (const p of cleanup) rmSync(p, { recursive: true, force: true });
  });
  const temp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    cleanup.push(dir);
    return dir;
  };

  rootOnly('refuses a stand-in that somebody else made first, writing nothing through the links in it', async () => {
    const victim = join(temp('memberpay-victim-'), 'secret');
    writeFileSync(victim, 'root only\n', { mode: 0o600 });
    const dataDir = temp('memberpay-datadir-planted-');
    const standIn = standInOf(dataDir);
    cleanup.push(standIn);
    mkdirSync(standIn, { mode: 0o777 });
    for (const name of ['data-dir', 'postgres.password', 'postgres.owner']) symlinkSync(victim, join(standIn, name));
    chownSync(standIn, NOBODY, NOBODY);
    const { code, output } = await runServiceToExit({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(output).toContain(`${standIn} exists and was not made by this service`);
    expect(readFileSync(victim, 'utf8')).toBe('root only\n');
    expect(lstatSync(standIn).uid).toBe(NOBODY);
    expect(existsSync(join(standIn, 'postgres'))).toBe(false);

    // A link in its place is refused the same way.
    rmSync(standIn, { recursive: true, force: true });
    symlinkSync(dirname(victim), standIn);
    const linked = await runServiceToExit({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    expect(linked.code).toBe(1);
    expect(linked.output).toContain('exists and was not made by this service');
    expect(readFileSync(victim, 'utf8')).toBe('root only\n');
    rmSync(standIn, { force: true });
  });

  rootOnly('makes a fresh stand-in 0700 with new 0600 files, and removes it at a clean stop once its DATA_DIR was removed', async () => {
    const dataDir = temp('memberpay-datadir-fresh-');
    const standIn = standInOf(dataDir);
    cleanup.push(standIn);
    const service = await spawnService({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    try {
      expect(pgDirOf(service.output())).toBe(join(standIn, 'postgres'));
      expect(statSync(standIn).mode & 0o777).toBe(0o700);
      for (const name of ['data-dir', 'postgres.password', 'postgres.owner']) {
        const file = lstatSync(join(standIn, name));
        expect([name, file.isFile(), file.mode & 0o777, file.uid]).toEqual([name, true, 0o600, 0]);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true }); // a throwaway DATA_DIR, removed while its service runs
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
    expect(existsSync(standIn)).toBe(false);
    expect(service.output()).toContain(`Removed ${standIn}, the embedded PostgreSQL of ${dataDir}, which was removed`);
  });

  rootOnly('the sweep at start removes only stand-ins this user made, whose DATA_DIR is gone', () => {
    const gone = join(tmpdir(), `memberpay-gone-${randomBytes(6).toString('hex')}`);
    const theirs = `/var/tmp/memberpay-data-test${randomBytes(4).toString('hex')}`;
    const ours = `/var/tmp/memberpay-data-test${randomBytes(4).toString('hex')}`;
    cleanup.push(theirs, ours);
    for (const folder of [theirs, ours]) {
      mkdirSync(folder, { mode: 0o700 });
      writeFileSync(join(folder, 'data-dir'), `${gone}\n`);
    }
    chownSync(join(theirs, 'data-dir'), NOBODY, NOBODY);
    chownSync(theirs, NOBODY, NOBODY);
    removeOrphanedStandIns();
    expect(existsSync(theirs)).toBe(true);
    expect(existsSync(ours)).toBe(false);
  });

  it('files that must be new are never written through a link nor over an existing file', () => {
    const dir = temp('memberpay-newfile-');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'kept');
    symlinkSync(victim, join(dir, 'link'));
    expect(() => writeNewFile(join(dir, 'link'), 'x')).toThrow(/EEXIST|ELOOP/);
    expect(() => writeNewFile(victim, 'x')).toThrow(/EEXIST/);
    expect(readFileSync(victim, 'utf8')).toBe('kept');
    writeNewFile(join(dir, 'fresh'), 'new');
    expect([readFileSync(join(dir, 'fresh'), 'utf8'), statSync(join(dir, 'fresh')).mode & 0o777]).toEqual(['new', 0o600]);
  });
});
