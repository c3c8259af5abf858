// `npm run soak -- [--minutes 30] [--seed N] [--instances 2] [--rate 40] [--members 40]`, read with node:util's parseArgs.
import { parseArgs } from 'node:util';

export interface SoakArgs {
  minutes: number;
  seed: number;
  instances: number;
  /** Requests a second to the service, all members together (the pace of the load). */
  rate: number;
  members: number;
  keep: boolean;
}

export const USAGE = `npm run soak -- [options]

A mixed load from many members on several instances of the built service, with faults injected from a
seeded schedule, then the books checked (soak/README.md).

  --minutes N     length of the load, before the final convergence and checks (default 30)
  --seed N        the seed of the fault schedule and of each member's choices (default: random, printed)
  --instances N   service instances behind the soak's round robin (default 2)
  --rate N        requests a second to the service, all members together (default 40)
  --members N     simulated members, each with a socket of its own (default: twice the rate)
  --keep          keep the soak's database (its name is printed) instead of dropping it
  --help          this text

Environment: DATABASE_URL (an admin URL of the PostgreSQL to use; a database of the soak's own is
created there and dropped; default postgres://postgres@127.0.0.1:5432/postgres). Redis: a server of
the soak's own is started on a free port (redis-server must be on PATH).`;

function positive(name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`--${name} takes a positive ${integer ? 'whole ' : ''}number`);
  return n;
}

/** The options, or null when --help was asked for. Throws with a message on a bad option. */
export function readArgs(argv: string[]): SoakArgs | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string' },
      seed: { type: 'string' },
      instances: { type: 'string' },
      rate: { type: 'string' },
      members: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return null;
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed takes a whole number >= 0');
  const instances = positive('instances', values.instances, 2);
  if (instances > 8) throw new Error('--instances: at most 8');
  const rate = positive('rate', values.rate, 40, false);
  return {
    minutes: positive('minutes', values.minutes, 30, false),
    seed,
    instances,
    rate,
    // Each member waits on its payments and notifications, so it takes about two members per request a second.
    members: values.members === undefined ? Math.max(10, Math.round(rate * 2)) : positive('members', values.members, 0),
    keep: values.keep ?? false,
  };
}
