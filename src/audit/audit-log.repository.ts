import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuditEntry } from './audit-log';

export interface AuditRow {
  id: string;
  createdAt: Date;
  actor: string;
  action: string;
  targetType: string;
  target: string;
  reason: string | null;
  clientAddress: string | null;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

const COLUMNS = `id::text AS id, created_at AS "createdAt", actor, action, target_type AS "targetType", target, reason,
  client_address AS "clientAddress", request_id AS "requestId", detail`;

const INSERT = `INSERT INTO admin_audit_log (actor, action, target_type, target, reason, client_address, request_id, detail)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`;

function params(e: AuditEntry): unknown[] {
  return [
    e.actor.slice(0, 64),
    e.action,
    e.targetType,
    e.target.slice(0, 128),
    e.reason ?? null,
    e.clientAddress?.slice(0, 64) ?? null,
    e.requestId?.slice(0, 64) ?? null,
    e.detail ? JSON.stringify(e.detail) : null,
  ];
}

/**
 * Appends an entry on the caller's transaction, so it commits or rolls back with the action it
 * records (the module that makes the change calls this inside its own transaction).
 */
export async function appendAuditEntry(m: EntityManager, entry: AuditEntry): Promise<AuditRow> {
  const [row] = (await m.query(INSERT, params(entry))) as AuditRow[];
  return row;
}

/** The admin audit log: appended to by the actions, read by support; nothing here changes a row. */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** For an action that changes no row of ours (an export): the entry is the whole transaction. */
  async record(entry: AuditEntry): Promise<AuditRow> {
    const [row] = (await this.dataSource.query(INSERT, params(entry))) as AuditRow[];
    return row;
  }

  /** Newest first; `before` is the id of the last entry of the previous page. */
  list(filter: {
    actor?: string;
    action?: string;
    targetType?: string;
    target?: string;
    before?: string;
    limit: number;
  }): Promise<AuditRow[]> {
    const args: unknown[] = [filter.limit + 1];
    const where: string[] = [];
    if (filter.actor) where.push(`actor = $${args.push(filter.actor)}`);
    if (filter.action) where.push(`action = $${args.push(filter.action)}`);
    if (filter.targetType) where.push(`target_type = $${args.push(filter.targetType)}`);
    if (filter.target) where.push(`target = $${args.push(filter.target)}`);
    if (filter.before) where.push(`id < $${args.push(filter.before)}::bigint`);
    return this.dataSource.query(
      `SELECT ${COLUMNS} FROM admin_audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $1`,
      args,
    );
  }

  /** Entries about any of these targets (an order's story: the order and its refunds' numbers), oldest first. */
  forTargets(targets: string[]): Promise<AuditRow[]> {
    if (!targets.length) return Promise.resolve([]);
    return this.dataSource.query(`SELECT ${COLUMNS} FROM admin_audit_log WHERE target = ANY($1) ORDER BY id LIMIT 500`, [targets]);
  }
}
