/**
 * Prints a development token for a user id: `npm run -s token -- 42` (the token alone on the
 * last line); `--admin` adds `role: "admin"` (support staff, for /api/v1/admin/…), `--service`
 * `role: "service"` (another backend, for /api/v1/entitlements; the id names the service). Signed with
 * JWT_SECRET, or with the development secret kept under DATA_DIR.
 */
import { loadAppConfig } from '../src/config/config.module';
import { ConfigError } from '../src/config/app-config';
import { TokenService } from '../src/auth/token.service';

const args = process.argv.slice(2);
const admin = args.includes('--admin');
const service = args.includes('--service');
const [userId, ttl] = args.filter((a) => a !== '--admin' && a !== '--service');
if (!userId || (admin && service)) {
  process.stderr.write('usage: npm run -s token -- <userId|serviceName> [ttlSeconds] [--admin | --service]\n');
  process.exit(2);
}
try {
  const tokens = new TokenService(loadAppConfig());
  process.stdout.write(`${tokens.sign(userId, ttl ? Number(ttl) : undefined, { admin, service })}\n`);
} catch (e) {
  if (e instanceof ConfigError) {
    for (const p of e.problems) process.stderr.write(`config: ${p.variable} ${p.problem}\n`);
    process.exit(1);
  }
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
