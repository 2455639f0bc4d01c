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
  /** The guest is registered to one tenant and wrote to another tenant's number: refused, audited. */
  TenantIsolationError: 'TenantIsolationError',
  /** Postgres is unreachable and the cached tenant directory is too old (or lacks the tenant): retried. */
  TenantDirectoryUnavailable: 'TenantDirectoryUnavailable',
  /**
   * A secret reference (env:NAME) names nothing on this worker; retried so a fixed deployment recovers, for
   * `CONFIG_FAILURE_RETRY_SECONDS`, then a {@link ErrorType.ConfigurationFailure}.
   */
  SecretUnavailable: 'SecretUnavailable',
  /**
   * The configuration cannot work, so retrying cannot help: a secret missing or a token or key refused for longer
   * than `CONFIG_FAILURE_RETRY_SECONDS`, or a PMS or transcription address the network policy refuses. Not retried.
   * `details[0]` is `{ kind, cause? }` (`kind`: secret, whatsapp_auth, pms_auth, pms_address, transcription_address;
   * `cause`: the failure type that ran out of time). The conversation records it, flags staff and goes on.
   */
  ConfigurationFailure: 'ConfigurationFailure',
  /** Redis, where room holds live, is unreachable; retried until it is back. */
  HoldStoreUnavailable: 'HoldStoreUnavailable',
  /** A stay or hold range that cannot be: check-out not after check-in, or not YYYY-MM-DD. */
  InvalidDates: 'InvalidDates',
  /**
   * The hotel's PMS cannot answer now: 5xx, timeout, reset, malformed body, 429, or its circuit breaker is
   * open (then `nextRetryDelay` is the time left until the breaker lets a trial call through). Retried.
   */
  PmsUnavailable: 'PmsUnavailable',
  /** The tenant has no PMS base URL, hotel id or credentials reference: nothing to call. Not retried. */
  PmsNotConfigured: 'PmsNotConfigured',
  /** The PMS refused our webservice key (HTTP 401); retried so bookings wait while the key is fixed. */
  PmsAuthError: 'PmsAuthError',
  /** The PMS refused the request for good (a 4xx other than 401/404/429): retrying cannot help. */
  PmsRejected: 'PmsRejected',
  /**
   * Meta's media endpoints or the network failed in a way that may pass: 5xx, timeout, stalled body, reset,
   * a malformed metadata answer, or a media URL still refused after fetching a fresh one. Retried.
   */
  MediaUnavailable: 'MediaUnavailable',
  /**
   * The downloaded bytes did not match the sha256 (or size) Meta declared. Retried once; a second mismatch is
   * the business outcome `{ kind: 'rejected', reason: 'corrupt' }`, not this failure.
   */
  MediaIntegrityError: 'MediaIntegrityError',
  /** The media store could not write or read (disk full, read-only, permissions); retried until it is fixed. */
  MediaStoreUnavailable: 'MediaStoreUnavailable',
  /** A media request that can never succeed: tenant id not a slug, malformed media id or ref, unknown type. */
  MediaInvalidRequest: 'MediaInvalidRequest',
  /** The transcription service failed in a way that may pass: 5xx, 429, timeout, reset. Retried. */
  TranscriptionUnavailable: 'TranscriptionUnavailable',
  /**
   * The transcription service refused the request for good (a 4xx other than 408/429: bad API key, model or
   * audio). Not retried: the conversation falls back to staff listening to the voice note.
   */
  TranscriptionRejected: 'TranscriptionRejected',
} as const;

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];
