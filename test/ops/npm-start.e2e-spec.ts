// `npm start` as a newcomer runs it: a real npm process, settings given only on its command line,
// the tools run afterwards with none, a second start on the same ports, and a process manager's SIGTERM.
// The tools find the one service `npm start` runs from this checkout: another `npm start` of your own
// from the same checkout while this runs makes them refuse to guess (as they should), failing it.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../src/common/net';
import { runningEmbeddedPostgres } from '../../src/database/embedded-postgres';

const repo = resolve(__dirname, '../..');
const base = { PATH: process.env.PATH!, NO_COLOR: '1', HOME: process.env.HOME ?? '/root' };

interface Started {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function npmStart(env: Record<string, string>): Started {
  const child = spawn('npm', ['start'], { cwd: repo, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | false>, log: () => string = () => ''): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} never happened:\n${log()}`);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A tool as the README writes it: `npm run -s <script> -- …`, with no setting of its own. */
const tool = (script: string, ...args: string[]) =>
  spawnSync('npm', ['run', '-s', script, '--', ...args], { cwd: repo, env: base, encoding: 'utf8', timeout: 120_000 });

describe('npm start, the tools beside it, and stopping it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'memberpay-npm-start-'));
  let port: number;
  let sandboxPort: number;
  let first: Started;
  afterAll(async () => {
    if (first && first.child.exitCode === null) first.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints, when ready, where to go and how to get a token, without the framework route listing', async () => {
    [port, sandboxPort] = [await freePort(), await freePort()];
    first = npmStart({ PORT: String(port), SANDBOX_PORT: String(sandboxPort), DATA_DIR: dataDir });
    await until('the ready lines', () => /A token for user 7/.test(first.out()), first.out);
    expect(first.out()).toContain(`checkout page     http://127.0.0.1:${port}/`);
    expect(first.out()).toContain(`provider sandbox  http://127.0.0.1:${sandboxPort}/sandbox/pay`);
    expect(first.out()).toContain('npm run -s token -- 7');
    expect(first.out()).not.toMatch(/Mapped \{|RoutesResolver/);
  });

  it("gives a token the service accepts, from a tool told nothing of the service's settings", async () => {
    const token = tool('token', '7');
    expect([token.status, token.stderr]).toEqual([0, '']);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/membership/me`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    expect(res.status).toBe(200);
    expect(tool('token', '--help')).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: npm run -s token/) });
    expect(tool('token', '--nope', '7')).toMatchObject({ status: 2, stderr: expect.stringMatching(/Unknown option '--nope'/) });
  });

  it('answers migration:show from the embedded database of the running service, with no setting', () => {
    const show = tool('migration:show');
    expect(show.stderr).toContain(`Using the embedded PostgreSQL of DATA_DIR=${dataDir}`);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/\[X\] \d+ \w+1764\d+/);
    expect(show.stdout).not.toMatch(/\[ \]/);
  });

  it('refuses a second start on the same ports, naming the service that holds them and the variables that move them', async () => {
    const second = npmStart({ PORT: String(port), SANDBOX_PORT: String(sandboxPort), DATA_DIR: join(dataDir, 'second') });
    expect(await second.exited).toBe(1);
    expect(second.out()).toMatch(
      new RegExp(`port ${port} \\(PORT\\) is taken by the memberpay service pid \\d+ on DATA_DIR=${dataDir} .*set PORT to another port`),
    );
    expect(second.out()).toMatch(new RegExp(`port ${sandboxPort} \\(SANDBOX_PORT\\) is taken by .*set SANDBOX_PORT`));
  });

  it('stops the service and its database on a SIGTERM to the npm process', async () => {
    const db = runningEmbeddedPostgres(dataDir);
    expect(db).not.toBeNull();
    first.child.kill('SIGTERM');
    await first.exited;
    await until('the database to stop', () => !alive(db!.pid), first.out);
    const answers = () =>
      fetch(`http://127.0.0.1:${port}/health`).then(
        () => true,
        () => false,
      );
    await until('the service to stop answering', async () => !(await answers()), first.out);
    expect(runningEmbeddedPostgres(dataDir)).toBeNull();
  });

  it('answers migration:show with the service stopped: the embedded database is started for the command and stopped after it', () => {
    const show = spawnSync('npm', ['run', '-s', 'migration:show'], {
      cwd: repo,
      env: { ...base, DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(show.stderr).toContain(`Started the embedded PostgreSQL of DATA_DIR=${dataDir} for this command`);
    expect(show.status).toBe(0);
    expect(show.stdout).toMatch(/\[X\] \d+ \w+1764\d+/);
    expect(runningEmbeddedPostgres(dataDir)).toBeNull();
  });
});
