import type { Logger } from '@nestjs/common';
import { ProviderTimeoutError, ProviderUnavailableError } from '../common/errors/domain-error';

/** Logs a row a job could not finish: a provider outage is expected and retried, anything else is ours. */
export function logAttemptFailure(logger: Logger, action: string, paymentNo: string, error: unknown): void {
  const message = `${action} ${paymentNo} failed: ${(error as Error)?.message ?? error}; retried on the next run`;
  if (error instanceof ProviderUnavailableError || error instanceof ProviderTimeoutError) logger.warn(message);
  else logger.error(message);
}
