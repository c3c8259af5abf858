// Preloaded into the service by `npm run bench -- --trace-sql` (node -r): counts the round trips
// of every transaction and the time spent in each statement, by wrapping pg's Client#query. The
// service's code is untouched; the summary is written to BENCH_SQL_TRACE_FILE when it exits.
// It adds a clock read per statement, so figures from a traced run are not the bench's figures.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { Client } from 'pg';

interface Open {
  startedNs: bigint;
  statements: string[];
  inStatementNs: bigint;
}
interface Shape {
  count: number;
  statements: number;
  wallMs: number;
  inStatementMs: number;
  sample: string[];
}

const TX_START = /^(START TRANSACTION|BEGIN)\b/i;
const TX_END = /^(COMMIT|ROLLBACK)\b/i;

const open = new WeakMap<object, Open>();
const byStatement = new Map<string, { count: number; ms: number }>();
/** Transactions grouped by their sequence of statements (the settle path, the duplicate path, …). */
const byShape = new Map<string, Shape>();
let outside = 0;

const normalise = (sql: string) => sql.replace(/\s+/g, ' ').trim().slice(0, 90);

function record(client: object, sql: string, elapsedNs: bigint): void {
  const key = normalise(sql);
  const s = byStatement.get(key) ?? { count: 0, ms: 0 };
  s.count += 1;
  s.ms += Number(elapsedNs) / 1e6;
  byStatement.set(key, s);
  const tx = open.get(client);
  if (TX_START.test(key)) {
    open.set(client, { startedNs: process.hrtime.bigint() - elapsedNs, statements: [key], inStatementNs: elapsedNs });
    return;
  }
  if (!tx) {
    outside += 1;
    return;
  }
  tx.statements.push(key);
  tx.inStatementNs += elapsedNs;
  if (!TX_END.test(key)) return;
  open.delete(client);
  const shapeKey = tx.statements.map((st) => st.slice(0, 40)).join(' | ');
  const shape = byShape.get(shapeKey) ?? { count: 0, statements: tx.statements.length, wallMs: 0, inStatementMs: 0, sample: tx.statements };
  shape.count += 1;
  shape.wallMs += Number(process.hrtime.bigint() - tx.startedNs) / 1e6;
  shape.inStatementMs += Number(tx.inStatementNs) / 1e6;
  byShape.set(shapeKey, shape);
}

const original = Client.prototype.query as (...args: unknown[]) => unknown;
// Node preloads `-r` modules into worker threads too (pino's log transport runs in one, in the same
// process): only the main thread, where the service's statements run, traces and writes the file;
// a worker's empty summary written after it would replace the real one.
if (isMainThread) install();

function install(): void {
  (Client.prototype as unknown as { query: (...args: unknown[]) => unknown }).query = function traced(this: object, ...args: unknown[]) {
    const sql = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string })?.text;
    const last = args[args.length - 1];
    if (typeof sql === 'string' && typeof last === 'function') {
      // pg-pool's pool.query (the service's prepared statements) passes a callback, not a promise.
      const started = process.hrtime.bigint();
      args[args.length - 1] = (...cbArgs: unknown[]) => {
        record(this, sql, process.hrtime.bigint() - started);
        return (last as (...a: unknown[]) => unknown)(...cbArgs);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (typeof sql !== 'string' || !(result instanceof Promise)) return result;
    const started = process.hrtime.bigint();
    return result.then(
      (value) => {
        record(this, sql, process.hrtime.bigint() - started);
        return value;
      },
      (e: unknown) => {
        record(this, sql, process.hrtime.bigint() - started);
        throw e;
      },
    );
  };

  process.on('exit', () => {
    const file = process.env.BENCH_SQL_TRACE_FILE;
    if (!file) return;
    const statements = [...byStatement]
      .map(([sql, s]) => ({ sql, count: s.count, avgMs: s.ms / s.count, totalMs: s.ms }))
      .sort((a, b) => b.totalMs - a.totalMs);
    const transactions = [...byShape.values()]
      .map((s) => ({
        count: s.count,
        statements: s.statements,
        avgWallMs: s.wallMs / s.count,
        avgInStatementsMs: s.inStatementMs / s.count,
        avgBetweenStatementsMs: (s.wallMs - s.inStatementMs) / s.count,
        sample: s.sample,
      }))
      .sort((a, b) => b.count - a.count);
    writeFileSync(file, JSON.stringify({ outsideTransactions: outside, transactions, statements }, null, 2));
  });
}
