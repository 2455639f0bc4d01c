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

/**
 * A write that QloApps answered with a 500 made of PHP warnings, and that a look-up did not find done. The shop
 * answered (it is not down: the breaker does not count it), but the write may still show up, so it is retried as
 * `PmsUnavailable`, whose next attempt looks the booking up by its reference first.
 */
export function pmsMaybeDone(message: string, details: Record<string, unknown> = {}) {
  return retryableFailure(ErrorType.PmsUnavailable, message, { ...details, maybeDone: true });
}

/** Whether a failure is an outage of the PMS (what the availability cache covers). */
export function isPmsOutage(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === ErrorType.PmsUnavailable;
}

/** Whether a failure counts against the PMS's circuit breaker: an outage, but not a write that may have been done. */
export function countsAgainstBreaker(err: unknown): boolean {
  if (!isPmsOutage(err)) return false;
  const details = (err as ApplicationFailure).details?.[0] as { maybeDone?: unknown } | undefined;
  return details?.maybeDone !== true;
}
