/**
 * Prints a development token for a user id: `npm run -s token -- 42` (the token alone on the
 * last line); `--admin` adds `role: "admin"` (support staff, for /api/v1/admin/…), `--service`
 * `role: "service"` (another backend, for /api/v1/entitlements; the id names the service). Signed with the
 * secret of the service `npm start` runs (its setup is found as src/config/service-setup.ts says),
 * else with JWT_SECRET, or with the development secret kept under DATA_DIR.
 */
import { parseArgs } from 'node:util';
import { buildAppConfig, ConfigError } from '../src/config/app-config';
import { readEnvironment } from '../src/config/config.module';
import { checkJwtSecret, findService, ServiceSetupError } from '../src/config/service-setup';
import { TokenService } from '../src/auth/token.service';

const USAGE = `usage: npm run -s token -- <userId|serviceName> [ttlSeconds] [--admin | --service]

Prints a token for <userId>, signed with the secret of the service \`npm start\` runs from this
checkout (several running: set DATA_DIR to choose), else JWT_SECRET, else the development secret
under DATA_DIR (default ./data).

  --admin       role "admin" (support staff, for /api/v1/admin/…)
  --service     role "service" (another backend, for /api/v1/entitlements; the id names the service)
  -h, --help    this text
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { admin: { type: 'boolean' }, service: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (e) {
  fail(`${(e as Error).message}\n\n${USAGE}`, 2);
}
if (parsed.values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const [userId, ttl, ...extra] = parsed.positionals;
if (!userId || extra.length || (parsed.values.admin && parsed.values.service)) fail(USAGE, 2);
if (ttl !== undefined && !/^\d+$/.test(ttl)) fail(`ttlSeconds must be a whole number of seconds, not "${ttl}"\n\n${USAGE}`, 2);
try {
  const found = findService(readEnvironment());
  const config = buildAppConfig(found.env);
  checkJwtSecret(found, config.jwtSecret);
  const tokens = new TokenService(config);
  process.stdout.write(
    `${tokens.sign(userId, ttl ? Number(ttl) : undefined, { admin: !!parsed.values.admin, service: !!parsed.values.service })}\n`,
  );
} catch (e) {
  if (e instanceof ConfigError) {
    for (const p of e.problems) process.stderr.write(`config: ${p.variable} ${p.problem}\n`);
    process.exit(1);
  }
  fail(e instanceof ServiceSetupError ? `token: ${e.message}` : (e as Error).message);
}
