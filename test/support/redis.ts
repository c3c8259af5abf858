import { Socket } from 'node:net';

/** The machine's Redis that the specs needing one use (each with a key prefix of its own). */
export const TEST_REDIS_HOST = '127.0.0.1';
export const TEST_REDIS_PORT = 6379;

const isCi = () => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';
const HOW = `start one with \`redis-server --daemonize yes --bind ${TEST_REDIS_HOST} --port ${TEST_REDIS_PORT} --save "" --appendonly no\`, then run them again`;

/** Whether Redis answers a PING; run once per test run by the global setup. */
export function pingRedis(timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    socket.connect(TEST_REDIS_PORT, TEST_REDIS_HOST, () => socket.write('PING\r\n'));
  });
}

/**
 * The global setup's verdict on Redis. Missing in CI, the run fails there; missing on a developer's
 * machine, the specs that need it are skipped, each saying so loudly and how to run them.
 */
export async function checkRedisForRun(): Promise<void> {
  const up = await pingRedis();
  if (!up && isCi())
    throw new Error(`Redis is not answering at ${TEST_REDIS_HOST}:${TEST_REDIS_PORT}, and CI runs every spec that needs it: ${HOW}`);
  process.env.MEMBERPAY_TEST_REDIS = up ? 'up' : 'down';
}

const redisUp = () => process.env.MEMBERPAY_TEST_REDIS !== 'down';

function skipping(what: string): void {
  process.stderr.write(`\n*** SKIPPED, Redis is not running at ${TEST_REDIS_HOST}:${TEST_REDIS_PORT}: ${what}. To run it: ${HOW} ***\n\n`);
}

/** describe() for a block that needs Redis. */
export function describeWithRedis(name: string, fn: () => void): void {
  if (redisUp()) return describe(name, fn);
  skipping(name);
  describe.skip(name, fn);
}

/** The cases of a describe.each, without those that need Redis (they name a REDIS_URL) when it is not running. */
export function casesWithRedis<T extends [string, Record<string, string>]>(cases: T[]): T[] {
  if (redisUp()) return cases;
  return cases.filter(([name, env]) => {
    if (!env.REDIS_URL) return true;
    skipping(`the "${name}" case of ${expect.getState().testPath ?? 'this file'}`);
    return false;
  });
}
