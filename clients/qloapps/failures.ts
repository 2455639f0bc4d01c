import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../lib/domain/errors';
import { retryableFailure } from '../../lib/failures';

/** A retryable `PmsUnavailable`: the PMS cannot answer now (with the wait it asked for, or the breaker's). */
export function pmsUnavailable(message: string, details: Record<string, unknown> = {}, nextRetryDelayMs?: number) {
  return retryableFailure(ErrorType.PmsUnavailable, message, details, nextRetryDelayMs);
}

/** A non-retryable `PmsRejected`: the PMS refused the request for good. */
export function pmsRejected(message: string, details: Record<string, unknown> = {}) {
  return ApplicationFailure.nonRetryable(message, ErrorType.PmsRejected, details);
}

/** Whether a failure is an outage of the PMS (what the breaker counts, and what the availability cache covers). */
export function isPmsOutage(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === ErrorType.PmsUnavailable;
}
