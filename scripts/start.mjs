// `npm start`: brings the development build up to date, then launches the sandbox and the service.
//
// The build here only transpiles, with SWC (the transpiler the test suite already runs the same
// sources through), and only the files whose output is older than their source: a restart on an
// unchanged checkout builds nothing and a fresh checkout builds in about a second. Type-checking is
// `tsc`'s job in `npm test` and CI; `npm run build` (tsc, for start:prod and the image) is unchanged.
// @swc/cli would do the transpiling, but not the "only what changed" check or the removal of
// outputs whose source is gone, which are what make a restart cheap, so this short script does both.
import { transformFile } from '@swc/core';
import { config as loadDotenv } from 'dotenv';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Source folders and where their JavaScript goes: the layout `tsc -b` gives (rootDir ".", outDir dist). */
const TREES = [
  { from: 'src', to: 'dist/src' },
  { from: 'migrations', to: 'dist/migrations' },
  { from: 'sandbox', to: 'dist-sandbox/sandbox' },
];

/** The TypeScript options of tsconfig.json that change the emitted code, in SWC's terms. */
const SWC = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    // NestJS's dependency injection and TypeORM's columns read the design-time types of decorated members.
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: true,
  swcrc: false,
  configFile: false,
};

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

function* outputs(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* outputs(path);
    else if (entry.name.endsWith('.js')) yield path;
  }
}

const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : -1);

async function build() {
  const started = Date.now();
  let built = 0;
  let removed = 0;
  for (const tree of TREES) {
    const from = join(ROOT, tree.from);
    const to = join(ROOT, tree.to);
    const wanted = new Set();
    const stale = [];
    for (const source of sources(from)) {
      const out = join(to, relative(from, source)).replace(/\.ts$/, '.js');
      wanted.add(out);
      if (mtime(out) < statSync(source).mtimeMs) stale.push([source, out]);
    }
    await Promise.all(
      stale.map(async ([source, out]) => {
        const { code, map } = await transformFile(source, { ...SWC, filename: source, sourceFileName: relative(dirname(out), source) });
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, `${code}\n//# sourceMappingURL=${out.split('/').pop()}.map\n`);
        if (map) writeFileSync(`${out}.map`, map);
      }),
    );
    built += stale.length;
    // An output whose source was deleted or renamed would still be found by anything that looks
    // for files (the data source's entity pattern): it goes.
    for (const out of outputs(to)) {
      if (wanted.has(out)) continue;
      rmSync(out);
      rmSync(`${out}.map`, { force: true });
      removed += 1;
    }
  }
  if (built || removed) console.log(`[start] transpiled ${built} file(s), removed ${removed} stale, in ${Date.now() - started} ms`);
}

/**
 * `npm start` runs this under `sh -c`, and a SIGTERM to the npm process (a process manager
 * stopping it) does not reach us through that shell: we would be orphaned, still serving, with our
 * database. So when the process that started us goes away we stop as if told to, through the
 * service's own SIGTERM handling (drain, stop the embedded PostgreSQL). Node has no parent-death
 * signal (prctl's PR_SET_PDEATHSIG), hence the poll: once a second, on an unref'd timer.
 */
function stopWithParent() {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      console.log(`[start] the process that started this one (pid ${parent}) is gone: stopping`);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 1000).unref();
}

/** Where a port's variable is, and what it defaults to, for the ports `npm start` listens on. */
function portsToCheck(env) {
  const production = env.NODE_ENV === 'production';
  const ports = [{ variable: 'PORT', port: Number(env.PORT ?? 8001), host: env.HOST || (production ? '0.0.0.0' : '127.0.0.1') }];
  const bothConfigured = env.WECHAT_PAY_MCH_ID && env.ALIPAY_APP_ID && !env.PAYMENT_SANDBOX_PROVIDERS;
  if (!production && !bothConfigured && env.PAYMENT_SANDBOX_PROVIDERS?.trim() !== 'none') {
    ports.push({ variable: 'SANDBOX_PORT', port: Number(env.SANDBOX_PORT ?? 8002), host: '127.0.0.1' });
  }
  if (env.OPS_PORT && Number(env.OPS_PORT) !== 0) ports.push({ variable: 'OPS_PORT', port: Number(env.OPS_PORT), host: ports[0].host });
  return ports.filter((p) => Number.isInteger(p.port) && p.port > 0);
}

const isTaken = ({ port, host }) =>
  new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (e) => resolve(e.code === 'EADDRINUSE'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });

/**
 * Who listens on a TCP port: a memberpay service started from this checkout (its entry under
 * .memberpay/running/, see src/config/service-setup.ts), else, on Linux, the process whose socket
 * it is (/proc/net/tcp* gives the socket's inode, /proc/<pid>/fd the process holding it). No
 * package does this lookup without a native module or an external `ss`/`lsof`, hence these lines.
 */
function holderOf(port) {
  const running = join(process.cwd(), '.memberpay', 'running');
  for (const name of existsSync(running) ? readdirSync(running) : []) {
    try {
      const s = JSON.parse(readFileSync(join(running, name), 'utf8'));
      process.kill(s.pid, 0);
      const which =
        s.port === port ? 'its API' : s.sandboxPort === port ? 'its provider sandbox' : s.opsPort === port ? 'its ops port' : '';
      if (which) return `the memberpay service pid ${s.pid} on DATA_DIR=${s.dataDir} (${which}, started ${s.startedAt})`;
    } catch {
      // not running, or not readable: not the holder
    }
  }
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!existsSync(table)) continue;
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]); // 0A: LISTEN
      }
    }
    for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
      let fds;
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        let link;
        try {
          link = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(link);
        if (m && inodes.has(m[1])) {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
          return `process ${pid} (${cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd})`;
        }
      }
    }
  } catch {
    // no /proc (macOS)
  }
  return 'another program (`ss -ltnp` or `lsof -i` names it)';
}

/** Refuses, before anything starts, ports another process holds: naming it and the variable that moves ours. */
async function checkPorts() {
  const taken = [];
  for (const p of portsToCheck(process.env)) if (await isTaken(p)) taken.push(p);
  if (!taken.length) return;
  for (const p of taken) {
    console.error(`[start] port ${p.port} (${p.variable}) is taken by ${holderOf(p.port)}: stop it, or set ${p.variable} to another port`);
  }
  console.error('[start] (a second service also needs its own DATA_DIR, e.g. PORT=8101 SANDBOX_PORT=8102 DATA_DIR=./data-2 npm start)');
  process.exit(1);
}

loadDotenv({ quiet: true }); // as launch does: .env from the cwd, real environment variables win
await checkPorts();
await build();
stopWithParent();
await import(join(ROOT, 'dist-sandbox/sandbox/launch.js'));
