import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { requestIdOf } from '../common/request-id';

export const AUDIT_ACTIONS = [
  'refund.requested',
  'reconciliation.item_resolved',
  'reconciliation.day_rerun',
  'reconciliation.exported',
  'auto_renew.cancelled',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_TARGET_TYPES = ['order', 'reconciliation_item', 'reconciliation_day', 'reconciliation_range', 'contract'] as const;
export type AuditTargetType = (typeof AUDIT_TARGET_TYPES)[number];

/** Who asked, as the request tells it; every audit entry starts from this. */
export interface AdminCaller {
  actor: string;
  clientAddress: string | null;
  requestId: string | null;
}

export interface AuditEntry extends AdminCaller {
  action: AuditAction;
  targetType: AuditTargetType;
  target: string;
  reason?: string | null;
  detail?: Record<string, unknown> | null;
}

/**
 * The authenticated admin, the client's address (req.ip: Express applies TRUST_PROXY) and the
 * request id, for the audit entry of what the route does.
 */
export const CurrentAdmin = createParamDecorator((_: unknown, ctx: ExecutionContext): AdminCaller => {
  const req = ctx.switchToHttp().getRequest<Request & { userId?: string }>();
  return { actor: req.userId!, clientAddress: req.ip ?? null, requestId: requestIdOf(req) };
});
