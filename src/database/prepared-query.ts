import type { Pool, PoolClient } from 'pg';
import { QueryRunnerAlreadyReleasedError, type DataSource, type EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs one statement as a node-postgres named prepared statement on TypeORM's own pool.
 *
 * TypeORM's `query()` sends every statement unnamed, so PostgreSQL parses and plans it on each
 * call; for the settlement read (four joins) planning is most of its cost — measured with pgbench
 * on that query: 8,000 tps sent unnamed (`-M extended`) against 42,000 prepared (`-M prepared`).
 * node-postgres prepares a `{ name, text }` statement once per connection and reuses it after, and
 * TypeORM exposes no option for it, hence this helper. Only for hot statements whose text never
 * changes (one name, one text): the same name with another text is an error in node-postgres.
 */
export async function preparedQuery<T>(dataSource: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}

/**
 * The same, on the connection of the caller's transaction (`m` from DataSource.transaction): the
 * settling transaction's statements are prepared once per pooled connection and then only bound
 * and executed. Outside a transaction (a manager without a query runner) it runs on the pool like
 * preparedQuery. A query runner that was released (its connection terminated mid-transaction) is an
 * error, never a reason to run on the pool: the statement would commit on its own while the rest of
 * the transaction rolls back (an order marked paid without its grant).
 * Errors are node-postgres's own (not wrapped in TypeORM's QueryFailedError).
 */
export async function preparedQueryIn<T>(m: EntityManager, name: string, text: string, values: unknown[]): Promise<T[]> {
  const runner = m.queryRunner;
  if (!runner) return preparedQuery<T>(m.connection, name, text, values);
  if (runner.isReleased) throw new QueryRunnerAlreadyReleasedError();
  // connect() hands back the connection the runner already holds (the transaction's).
  const client = (await runner.connect()) as PoolClient;
  const result = await client.query({ name, text, values });
  return result.rows as T[];
}
