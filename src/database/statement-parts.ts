import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { preparedQueryIn } from './prepared-query';

/**
 * A piece of one statement, written by the module that owns its table: one or more common table
 * expressions (`name AS (…), …`) numbering their own parameters from $1. Several owners' writes that
 * follow from one decision (settlement: the member's periods, the order, the outbox row) are then
 * sent as one statement with data-modifying CTEs, one round trip where there were one per owner,
 * while each module's SQL stays in its own repository. Every data-modifying CTE runs once and to
 * completion whether or not the final SELECT reads it, all on the statement's one snapshot: parts
 * must not read what another part of the same statement writes.
 */
export interface StatementPart {
  /** Names the part's text in prepared statement names: one key, one text. */
  key: string;
  /** `name AS (…)[, name2 AS (…)]`, with $1…$n for `values`. */
  ctes: string;
  values: unknown[];
}

/** Shifts a part's $n placeholders by `offset`, so parts can share one parameter list. */
function shifted(text: string, offset: number): string {
  return offset ? text.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`) : text;
}

/** The statement's last clause: a SELECT (or a write) that may name the parts' CTEs, its own parameters from $1. */
export interface FinalClause {
  key: string;
  text: string;
  values: unknown[];
}

/** The statement that runParts sends: its prepared name, text and values. */
export function composeParts(parts: StatementPart[], final: FinalClause): { name: string; text: string; values: unknown[] } {
  let offset = 0;
  const ctes: string[] = [];
  const values: unknown[] = [];
  for (const p of parts) {
    ctes.push(shifted(p.ctes, offset));
    values.push(...p.values);
    offset += p.values.length;
  }
  values.push(...final.values);
  const text = `${ctes.length ? `WITH ${ctes.join(',\n')}\n` : ''}${shifted(final.text, offset)}`;
  return { name: statementName([...parts, final].map((p) => p.key).join('+')), text, values };
}

/**
 * Joins parts (in order) and the final clause into one prepared statement on the caller's
 * transaction. The name is made of the keys, so each combination is prepared once per connection.
 */
export function runParts<T>(m: EntityManager, parts: StatementPart[], final: FinalClause): Promise<T[]> {
  const { name, text, values } = composeParts(parts, final);
  return preparedQueryIn<T>(m, name, text, values);
}

/**
 * PostgreSQL cuts a prepared statement's name at 63 bytes: two long names alike in their first 63
 * would clash on one connection. A longer name keeps its start and gets a digest of the whole.
 */
function statementName(keys: string): string {
  if (Buffer.byteLength(keys) <= 63) return keys;
  return `${keys.slice(0, 50)}~${createHash('sha256').update(keys).digest('hex').slice(0, 12)}`;
}
