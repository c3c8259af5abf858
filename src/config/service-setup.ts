import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * What a development service started with (`npm start`), written where the tools look, so that
 * `npm run token`, `npm run reconcile`, the migration commands and `npm run config:check` work
 * on the running service's setup even when its settings were given only on `npm start`'s command
 * line (`DATA_DIR=… PORT=… npm start`). Nothing in it is a secret: the JWT secret is named by where
 * it lives (the development secret under DATA_DIR, or the service's own environment) with a
 * fingerprint that tells a tool holding another secret that it differs; the embedded database is
 * found from DATA_DIR (its password file lives there already).
 *
 * It is written twice: `DATA_DIR/service.json` (kept after the service stops, so a tool given the
 * same DATA_DIR finds its setup whether it runs or not), and an entry per running service under
 * `.memberpay/running/` in the working directory (removed when it stops), through which a tool run
 * without DATA_DIR finds the service that `npm start` runs from this checkout.
 */
export interface ServiceSetup {
  pid: number;
  dataDir: string;
  host: string;
  port: number;
  opsPort?: number;
  /** The local provider emulator `npm start` runs beside the service. */
  sandboxUrl?: string;
  sandboxPort?: number;
  /** `external`: DATABASE_URL was given (shown redacted); a tool needs the same variable. */
  database: { kind: 'embedded' } | { kind: 'external'; url: string };
  jwt: { secret: 'development' | 'environment'; fingerprint: string; issuer?: string; audience?: string };
  startedAt: string;
}

const FILE = 'service.json';
const registry = (cwd: string) => join(cwd, '.memberpay', 'running');

/** A short hash of a secret: equal secrets give equal fingerprints; the secret cannot be read back. */
/**
 * What the launcher (`npm start`, scripts/start.mjs) told the service about how it was started: the
 * service records its setup for the tools only then. Read here because the configuration is the one
 * reader of the environment.
 */
export function launchOf(env: NodeJS.ProcessEnv = process.env): {
  startedByNpmStart: boolean;
  sandboxUrl?: string;
  jwtSecretFrom: 'environment' | 'development';
} {
  return {
    startedByNpmStart: env.MEMBERPAY_STARTED_BY === 'npm start',
    sandboxUrl: env.MEMBERPAY_SANDBOX_URL || undefined,
    jwtSecretFrom: env.JWT_SECRET ? 'environment' : 'development',
  };
}

export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(`memberpay-jwt:${secret}`).digest('hex').slice(0, 16);
}

function writeAtomically(path: string, text: string): void {
  const staging = `${path}.${process.pid}.tmp`;
  writeFileSync(staging, text, { mode: 0o644 });
  renameSync(staging, path);
}

/** Records the running service's setup; the registry entry goes when the process exits. */
export function writeServiceSetup(setup: ServiceSetup, cwd = process.cwd()): void {
  const text = `${JSON.stringify(setup, null, 2)}\n`;
  mkdirSync(setup.dataDir, { recursive: true });
  writeAtomically(join(setup.dataDir, FILE), text);
  mkdirSync(registry(cwd), { recursive: true });
  const entry = join(registry(cwd), `${setup.pid}.json`);
  writeAtomically(entry, text);
  process.once('exit', () => rmSync(entry, { force: true }));
}

function readSetup(path: string): ServiceSetup | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as ServiceSetup;
    return typeof parsed.dataDir === 'string' && typeof parsed.port === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function isRunning(setup: ServiceSetup): boolean {
  try {
    process.kill(setup.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // A recycled pid of another program is not the service.
    return /node/.test(readFileSync(`/proc/${setup.pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): alive is all we can tell
  }
}

/** The services running from this working directory, by their registry entries (stale ones are removed). */
export function runningServices(cwd = process.cwd()): ServiceSetup[] {
  let names: string[];
  try {
    names = readdirSync(registry(cwd)).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const out: ServiceSetup[] = [];
  for (const name of names) {
    const setup = readSetup(join(registry(cwd), name));
    if (setup && isRunning(setup)) out.push(setup);
    else rmSync(join(registry(cwd), name), { force: true });
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export type Env = Record<string, string | undefined>;

export interface FoundService {
  /** The environment a tool should use: the service's settings under what the tool was given. */
  env: Env;
  setup?: ServiceSetup;
  running: boolean;
}

/** A tool cannot tell which service it is meant for, or lacks what that service was started with. */
export class ServiceSetupError extends Error {}

const describe = (s: ServiceSetup) => `DATA_DIR=${s.dataDir} (port ${s.port}, pid ${s.pid})`;

/**
 * The setup of the service a tool is run for: the one on the DATA_DIR it was given; else the one
 * on the PORT it was given; else the one service running from this checkout; else the one last
 * started on the default DATA_DIR. What the tool was given explicitly always wins.
 */
export function findService(env: Env, cwd = process.cwd()): FoundService {
  let setup: ServiceSetup | undefined;
  if (env.DATA_DIR) {
    setup = readSetup(join(resolve(cwd, env.DATA_DIR), FILE));
  } else {
    const running = runningServices(cwd);
    const candidates = env.PORT ? running.filter((s) => String(s.port) === env.PORT) : running;
    if (candidates.length > 1) {
      throw new ServiceSetupError(
        `${candidates.length} memberpay services run from this checkout: ${candidates.map(describe).join(', ')}. ` +
          'Set DATA_DIR to the one this command is for.',
      );
    }
    setup = candidates[0] ?? readSetup(join(resolve(cwd, 'data'), FILE));
  }
  if (!setup) return { env, running: false };
  const fromService: Env = {
    DATA_DIR: setup.dataDir,
    PORT: String(setup.port),
    ...(setup.sandboxPort !== undefined ? { SANDBOX_PORT: String(setup.sandboxPort) } : {}),
    ...(setup.jwt.issuer ? { JWT_ISSUER: setup.jwt.issuer } : {}),
    ...(setup.jwt.audience ? { JWT_AUDIENCE: setup.jwt.audience } : {}),
  };
  const merged: Env = { ...fromService };
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v;
  return { env: merged, setup, running: isRunning(setup) };
}

/** Refuses, naming the variable, when the tool's JWT secret is not the one the service verifies with. */
export function checkJwtSecret(found: FoundService, jwtSecretInUse: string): void {
  const s = found.setup;
  if (!s || secretFingerprint(jwtSecretInUse) === s.jwt.fingerprint) return;
  const whose = `the service on ${describe(s)}${found.running ? '' : ', not running now,'}`;
  if (s.jwt.secret === 'environment' && !found.env.JWT_SECRET) {
    throw new ServiceSetupError(`${whose} verifies tokens with the JWT_SECRET it was started with: set JWT_SECRET to that value`);
  }
  throw new ServiceSetupError(
    `JWT_SECRET differs from the secret ${whose} verifies tokens with: its tokens would be refused (401). ` +
      (s.jwt.secret === 'development'
        ? 'Unset JWT_SECRET to use its development secret under DATA_DIR.'
        : 'Set JWT_SECRET to the value the service runs with.'),
  );
}

/** Refuses, naming the variable, when the service runs on an external database the tool was not given. */
export function checkDatabaseUrl(found: FoundService): void {
  const s = found.setup;
  if (s?.database.kind === 'external' && !found.env.DATABASE_URL) {
    throw new ServiceSetupError(`the service on ${describe(s)} uses the database ${s.database.url}: set DATABASE_URL to it`);
  }
}
