import { ErrorCode } from './error-codes';

/** Services throw these; only the error filter turns a code into an HTTP answer. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: string[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(code: 'ORDER_NOT_FOUND' | 'PRODUCT_NOT_FOUND' | 'NOT_FOUND', message: string) {
    super(code, message);
  }
}

export class ConflictError extends DomainError {}

export class ProviderUnavailableError extends DomainError {
  constructor(message: string) {
    super('PROVIDER_UNAVAILABLE', message);
  }
}

export class ProviderTimeoutError extends DomainError {
  constructor(message: string) {
    super('PROVIDER_TIMEOUT', message);
  }
}

/** Authenticated, but not allowed (a member on an admin route). */
export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class UnauthenticatedError extends DomainError {
  constructor(message = 'A valid bearer token is required') {
    super('UNAUTHENTICATED', message);
  }
}
