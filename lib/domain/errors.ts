/**
 * Every `ApplicationFailure.type` the system raises, in one place, so retry policies and tests match on
 * the same names. Non-retryable failures are raised with `nonRetryable: true` as well.
 */
export const ErrorType = {
  /** Meta refused the message for good: bad recipient, 24 h window closed, unsupported content. */
  WhatsAppPermanentError: 'WhatsAppPermanentError',
  /** Meta throttled us (HTTP 429 or a rate-limit error code); retried after a delay. */
  WhatsAppRateLimited: 'WhatsAppRateLimited',
  /**
   * Meta refused our access token (expired or revoked); retried so nothing is lost while it is rotated, for
   * `CONFIG_FAILURE_RETRY_SECONDS`, then a {@link ErrorType.ConfigurationFailure}.
   */
  WhatsAppAuthError: 'WhatsAppAuthError',
  /** Meta or the network failed in a way that may pass: 5xx, timeouts, resets. */
  WhatsAppUnavailable: 'WhatsAppUnavailable',
  /**
   * A send failed after its request was written (a timeout waiting for the answer, a reset, a connection cut): Meta may
   * have the message. Retryable for callers that cannot reconcile (the booking saga); the conversation lists it as
   * non-retryable and waits for a status webhook carrying the message's idempotency key before sending again.
   */
  SendOutcomeUnknown: 'SendOutcomeUnknown',
  /** The guest is registered to one tenant and wrote to another tenant's number: refused, audited. */
  TenantIsolationError: 'TenantIsolationError',
  /** Postgres is unreachable and the cached tenant directory is too old (or lacks the tenant): retried. */
  TenantDirectoryUnavailable: 'TenantDirectoryUnavailable',
  /**
   * A tenant's secret reference cannot be used. Inside the tenant's namespace (`env:TENANT_<ID>_<NAME>`) but
   * unset on this worker: retried, so a fixed deployment recovers. Outside it (a worker secret, another
   * tenant's): raised non-retryable, because no retry can make it valid (see `requireSecret` in lib/secrets.ts).
   * A retryable one is retried for `CONFIG_FAILURE_RETRY_SECONDS`, then becomes a
   * {@link ErrorType.ConfigurationFailure}.
   */
  SecretUnavailable: 'SecretUnavailable',
  /**
   * The configuration cannot work, so retrying cannot help: a secret missing or a token or key refused for longer
   * than `CONFIG_FAILURE_RETRY_SECONDS`, or a PMS or transcription address the network policy refuses. Not retried.
   * `details[0]` is `{ kind, cause? }` (`kind`: secret, whatsapp_auth, pms_auth, pms_redirect, pms_address,
   * transcription_address; `cause`: the failure type that ran out of time). The conversation records it, flags
   * staff and goes on.
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
  /**
   * The PMS refused our webservice key (HTTP 401), or the key lacks a permission (QloApps: 401 for a resource, 405
   * for a method; 403 from a proxy); retried so bookings wait while the key is fixed, for
   * `CONFIG_FAILURE_RETRY_SECONDS`, then a {@link ErrorType.ConfigurationFailure}.
   */
  PmsAuthError: 'PmsAuthError',
  /**
   * The PMS base URL is not the shop's own domain: QloApps redirects (302) every such request to its front office.
   * Retried like {@link ErrorType.PmsAuthError} while someone fixes `pmsBaseUrl`, then a `ConfigurationFailure`.
   */
  PmsRedirect: 'PmsRedirect',
  /** The PMS refused the request for good (a 4xx other than 401/403/404/429): retrying cannot help. */
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
  /**
   * Redis, where the interaction log's outbox lives, did not take the rows: retried within the activity's short
   * deadline, then given up (the interaction log is best effort; the conversation never waits for it).
   */
  InteractionLogUnavailable: 'InteractionLogUnavailable',
  /**
   * A conversation refused an operator's update in its validator (so nothing was recorded in its history).
   * `details[0]` is `{ reason }`, one of {@link OperatorRefusal}.
   */
  OperatorActionRefused: 'OperatorActionRefused',
} as const;

/**
 * Why a conversation refuses an operator's update: `invalid_request` (a malformed operator id or text), `closed`
 * (closed or closing), `already_in_handoff`, `not_in_handoff` (resume), `booking_in_progress` (close while a booking
 * saga runs), `no_tenant` (a reply in a conversation no active tenant answers for).
 */
export const operatorRefusals = [
  'invalid_request',
  'closed',
  'already_in_handoff',
  'not_in_handoff',
  'booking_in_progress',
  'no_tenant',
] as const;
export type OperatorRefusal = (typeof operatorRefusals)[number];

export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/**
 * The failure type Temporal's server gives an attempt that outlived its start-to-close timeout (a worker that died
 * mid-send), as a retry policy's `nonRetryableErrorTypes` names it: `TemporalTimeout:` + the timeout type
 * (go.temporal.io/server common/retrypolicy `TimeoutFailureTypePrefix`).
 */
export const startToCloseTimeoutType = 'TemporalTimeout:StartToClose';

/**
 * The failure types that mean "the configuration is wrong" (retried for `CONFIG_FAILURE_RETRY_SECONDS`, then a
 * `ConfigurationFailure`), and the kind each is counted (`config_failures_total{kind}`) and recorded as.
 */
export const configFailureKinds: Readonly<Partial<Record<string, string>>> = {
  [ErrorType.SecretUnavailable]: 'secret',
  [ErrorType.WhatsAppAuthError]: 'whatsapp_auth',
  [ErrorType.PmsAuthError]: 'pms_auth',
  [ErrorType.PmsRedirect]: 'pms_redirect',
};

/** The configuration-failure kind of a failure of this type (and details), or undefined when it is another kind. */
export function configFailureKind(type: string | null | undefined, details?: readonly unknown[]): string | undefined {
  if (!type) return undefined;
  if (type === ErrorType.ConfigurationFailure) {
    const kind = (details?.[0] as { kind?: unknown } | undefined)?.kind;
    return typeof kind === 'string' ? kind : 'configuration';
  }
  return configFailureKinds[type];
}

/**
 * The configuration failure somewhere in an error's cause chain (an activity failure, its timeout, the last attempt's
 * failure), or undefined. Duck-typed, so workflows can use it without importing the SDK's failure classes here.
 */
export function configFailureIn(err: unknown): { kind: string; message: string } | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const { type, details, message, cause } = e as {
      type?: unknown;
      details?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    const kind =
      typeof type === 'string' ? configFailureKind(type, Array.isArray(details) ? details : undefined) : undefined;
    if (kind !== undefined) return { kind, message: `${String(type)}: ${typeof message === 'string' ? message : ''}` };
    e = cause;
  }
  return undefined;
}
