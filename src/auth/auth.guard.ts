import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { bearerToken, TokenService } from './token.service';

export const PUBLIC = 'memberpay:public';
/** Routes open without a token (plan list, health, provider callbacks). */
export const Public = () => SetMetadata(PUBLIC, true);

type AuthedRequest = Request & { userId?: string };

/** Every HTTP route needs a valid bearer token unless marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector, private readonly tokens: TokenService) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    req.userId = this.tokens.verify(bearerToken(req.headers.authorization));
    return true;
  }
}

/** The authenticated caller's user id (the token's `sub`). */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): string => {
  return ctx.switchToHttp().getRequest<AuthedRequest>().userId!;
});
