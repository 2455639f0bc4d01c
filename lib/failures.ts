import { ApplicationFailure } from '@temporalio/common';
import type { ErrorTypeName } from './domain/errors';

/**
 * A retryable `ApplicationFailure` of one of our types (lib/domain/errors.ts), with `details` as its one detail and,
 * when the failing side said how long to wait (a `Retry-After`, a breaker's open time), that as `nextRetryDelay`.
 */
export function retryableFailure(
  type: ErrorTypeName,
  message: string,
  details: Record<string, unknown> = {},
  nextRetryDelayMs?: number,
): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: false,
    details: [details],
    ...(nextRetryDelayMs !== undefined ? { nextRetryDelay: nextRetryDelayMs } : {}),
  });
}
