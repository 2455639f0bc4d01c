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

/**
 * Whether a failure counts against the PMS's circuit breaker: only what says the PMS is in trouble, a 5xx answer, a
 * timeout or a connection that failed. Not a write that may have been done (QloApps' PHP-warning 500), not a 429
 * (it says how long to wait, and that is followed), not an answer we could not read (the PMS did answer), nor
 * anything else: a 4xx refusal or a room taken is a `PmsRejected` or a result, never an outage.
 */
export function countsAgainstBreaker(err: unknown): boolean {
  if (!isPmsOutage(err)) return false;
  const details = (err as ApplicationFailure).details?.[0] as
    { maybeDone?: unknown; unreachable?: unknown; httpStatus?: unknown } | undefined;
  if (details?.maybeDone === true) return false;
  if (details?.unreachable === true) return true;
  return typeof details?.httpStatus === 'number' && details.httpStatus >= 500;
}
