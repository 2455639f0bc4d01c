/**
 * Every `ApplicationFailure.type` the system raises, in one place, so retry policies and tests match on
 * the same names. Non-retryable failures are raised with `nonRetryable: true` as well.
 */
export const ErrorType = {
  /** Meta refused the message for good: bad recipient, 24 h window closed, unsupported content. */
  WhatsAppPermanentError: 'WhatsAppPermanentError',
  /** Meta throttled us (HTTP 429 or a rate-limit error code); retried after a delay. */
  WhatsAppRateLimited: 'WhatsAppRateLimited',
  /** Meta refused our access token (expired or revoked); retried so nothing is lost while it is rotated. */
  WhatsAppAuthError: 'WhatsAppAuthError',
  /** Meta or the network failed in a way that may pass: 5xx, timeouts, resets. */
  WhatsAppUnavailable: 'WhatsAppUnavailable',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];
