import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors } from '../common/api-errors.decorator';
import { ForbiddenError } from '../common/errors/domain-error';
import { PUBLIC } from '../common/public-route';
import { bearerToken, TokenService } from './token.service';

export { Public } from '../common/public-route';
const ADMIN = 'memberpay:admin';
const SERVICE = 'memberpay:service';

/**
 * Every route under this prefix is for support staff only, whatever its decorators say: a new
 * admin controller that forgets @AdminOnly() is still closed to members.
 */
export const ADMIN_ROUTE_PREFIX = '/api/v1/admin/';

/**
 * Marks a controller or route as admin-only (a token with `role: "admin"`; anyone else gets 403
 * FORBIDDEN) and documents it. Routes under /api/v1/admin/ are admin-only even without it.
 */
export const AdminOnly = () => applyDecorators(SetMetadata(ADMIN, true), ApiBearerAuth(), ApiErrors('UNAUTHENTICATED', 'FORBIDDEN'));

/**
 * Marks a controller or route as for backend services only (a token with `role: "service"`; a
 * member's or an admin's token gets 403 FORBIDDEN). A service token is refused on every other route.
 */
export const ServiceOnly = () => applyDecorators(SetMetadata(SERVICE, true), ApiBearerAuth(), ApiErrors('UNAUTHENTICATED', 'FORBIDDEN'));

type AuthedRequest = Request & { userId?: string; admin?: boolean };

/**
 * Every HTTP route needs a valid bearer token unless marked @Public(); admin routes (the
 * /api/v1/admin/ prefix or @AdminOnly()) also need the admin role, service routes (@ServiceOnly())
 * the service role, and a service token is good for service routes only. Unauthenticated is a
 * 401, authenticated without the role a 403.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const adminOnly = isAdminPath(req) || !!this.reflector.getAllAndOverride<boolean>(ADMIN, [context.getHandler(), context.getClass()]);
    if (!adminOnly && this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const serviceOnly = !adminOnly && !!this.reflector.getAllAndOverride<boolean>(SERVICE, [context.getHandler(), context.getClass()]);
    const session = this.tokens.verifySession(bearerToken(req.headers.authorization));
    if (adminOnly && !session.admin) throw new ForbiddenError('This route is for administrators only');
    if (serviceOnly && !session.service) throw new ForbiddenError('This route is for services only (a token with role "service")');
    // A service reads entitlements only: a service token names a service, not a member.
    if (!serviceOnly && session.service) throw new ForbiddenError('A service token is accepted on the service routes only');
    req.userId = session.userId;
    req.admin = session.admin;
    return true;
  }
}

function isAdminPath(req: Request): boolean {
  // Express routes match case-insensitively by default, so the prefix check does too.
  const path = (req.path ?? req.url ?? '').toLowerCase();
  return path.startsWith(ADMIN_ROUTE_PREFIX) || path === ADMIN_ROUTE_PREFIX.slice(0, -1);
}

/** The authenticated caller's user id (the token's `sub`); for an admin, who asked. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().userId!;
});
