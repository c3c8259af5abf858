import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServiceToExit, spawnService } from '../support/service-process';

/** Running, and not a zombie waiting for a parent that will never reap it. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function pgDirOf(output: string): string {
  const m = /PostgreSQL data in (\S+)/.exec(output);
  if (!m) throw new Error(`no data directory in:\n${output}`);
  return m[1];
}

describe('the service on its embedded PostgreSQL', () => {
  // mkdtemp makes a folder only root may enter, as CI's checkout folder is.
  const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-embedded-'));
  let pgDir = '';
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
    if (pgDir) rmSync(join(pgDir, '..'), { recursive: true, force: true });
  });

  it('starts with no database server configured, survives SIGKILL, and stops its PostgreSQL on SIGTERM', async () => {
    const env = { DATA_DIR: dataDir };
    const first = await spawnService(env);
    pgDir = pgDirOf(first.output());
    const plans = await fetch(`http://127.0.0.1:${first.port}/api/v1/membership/plans`);
    expect(plans.status).toBe(200);
    expect(await plans.json()).toHaveLength(6);

    first.child.kill('SIGKILL');
    await first.exited;
    const stalePid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(alive(stalePid)).toBe(true); // the orphan the next start must deal with

    const second = await spawnService(env);
    expect(second.output()).toMatch(/stale embedded PostgreSQL/);
    expect((await fetch(`http://127.0.0.1:${second.port}/health`)).status).toBe(200);
    const pid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(pgDir, 'postmaster.pid'))).toBe(false);
  });

  it('stops the boot on a bad value with one line per problem and no stack trace', async () => {
    const { code, output } = await runServiceToExit({ DATA_DIR: dataDir, PORT: 'eighty', JWT_SECRET: 'too-short-secret' });
    expect(code).toBe(1);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^config: PORT must be an integer/),
        'config: JWT_SECRET must be at least 32 characters',
      ]),
    );
    expect(output).not.toContain('too-short-secret');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
