import type { DynamicModule, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppConfig, buildAppConfig, ConfigError } from '../config/app-config';
import { EmbeddedPostgresHandle, runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { typeormOptions } from './typeorm-options';

/**
 * The database of a one-shot command (`npm run reconcile`, `npm run renewals`): DATABASE_URL when set;
 * otherwise the embedded PostgreSQL under DATA_DIR — the one the running service started when it runs
 * (never a second server over its data directory), or one started for this command (migrated, as the
 * service would at its start), which the caller stops after it (`started`).
 */
export async function cliDatabase(
  config: AppConfig,
  out: (line: string) => void,
): Promise<{ url: string; started?: EmbeddedPostgresHandle }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const running = runningEmbeddedPostgres(config.dataDir);
  if (running) {
    out(`Using the embedded PostgreSQL the running service started (pid ${running.pid}).`);
    return { url: running.url };
  }
  const started = await startEmbeddedPostgres(config.dataDir, () => undefined);
  const ds = await new DataSource(typeormOptions(started.url, { poolSize: 1 })).initialize();
  try {
    await ds.runMigrations();
  } finally {
    await ds.destroy();
  }
  out('Started the embedded PostgreSQL for this command (no service runs on this DATA_DIR).');
  return { url: started.url, started };
}

/**
 * A one-shot command's application: its configuration (problems printed, then null: the caller exits
 * with its usage code), its database as cliDatabase finds it, and a Nest application context of the
 * command's module on that database; `work` runs in it, and everything is closed after it whatever
 * happens. `npm run reconcile` and `npm run renewals` differ only in their module and their work.
 */
export async function runCliApp<T>(
  env: Record<string, string | undefined>,
  out: (line: string) => void,
  rootModule: (env: Record<string, string | undefined>) => Promise<DynamicModule>,
  logger: LogLevel[],
  work: (app: INestApplicationContext, config: AppConfig) => Promise<T>,
): Promise<T | null> {
  let config: AppConfig;
  try {
    config = buildAppConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) out(`config: ${p.variable} ${p.problem}`);
    return null;
  }
  const db = await cliDatabase(config, out);
  try {
    const app = await NestFactory.createApplicationContext(await rootModule({ ...env, DATABASE_URL: db.url }), {
      logger,
      abortOnError: false,
    });
    try {
      return await work(app, config);
    } finally {
      await app.close();
    }
  } finally {
    await db.started?.stop();
  }
}

/** A one-shot command: its usage, how it reads its arguments, its module, its work, and its exit status for a bad call. */
export interface CliCommand<A extends object> {
  usage: string;
  /** The arguments, `'help'` for --help, or a message (with the usage) for arguments that make no sense. */
  parse(argv: string[]): A | 'help' | string;
  /** The exit status of bad arguments or a configuration with problems. */
  badCall: number;
  rootModule: (env: Record<string, string | undefined>) => Promise<DynamicModule>;
  logger: LogLevel[];
  work(app: INestApplicationContext, config: AppConfig, args: A, out: (line: string) => void): Promise<number>;
}

/** A command's run: --help and bad arguments answered before any setup, then its work in runCliApp; the exit status. */
export async function runCommand<A extends object>(
  command: CliCommand<A>,
  argv: string[],
  env: Record<string, string | undefined>,
  out: (line: string) => void,
): Promise<number> {
  const args = command.parse(argv);
  if (args === 'help') {
    out(command.usage);
    return 0;
  }
  if (typeof args === 'string') {
    out(args);
    return command.badCall;
  }
  const code = await runCliApp(env, out, command.rootModule, command.logger, (app, config) => command.work(app, config, args, out));
  return code ?? command.badCall;
}

/** Ends the process with the command's exit status; a throw is printed (its message only) and ends it with `failure`. */
export function exitWhenDone(name: string, failure: number, run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${name} failed: ${(e as Error)?.message ?? e}\n`);
      process.exit(failure);
    },
  );
}
