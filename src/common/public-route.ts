import { SetMetadata } from '@nestjs/common';

/**
 * The mark of a route open without a token (plan list, health, provider callbacks). Auth's guard
 * lets such a route through; the rate limiter counts it by path instead of by user. It lives here,
 * below both, so the rate limiter need not import auth.
 */
export const PUBLIC = 'memberpay:public';

/** Routes open without a token (plan list, health, provider callbacks). */
export const Public = () => SetMetadata(PUBLIC, true);
