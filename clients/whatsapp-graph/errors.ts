import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ErrorType, type ErrorTypeName } from '../../lib/domain/errors';
import { retryableFailure } from '../../lib/failures';
import { retryAfterMs } from '../../lib/http';

/**
 * The one reading of Graph API errors, for sends and media alike. Codes are Meta's, from the Cloud API error-code
 * reference (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/); Meta asks callers to
 * decide on `code`, not on the HTTP status or the title in `message`.
 */

/**
 * Which limit a rate-limit error says was hit. Each is retryable, after a delay, but they differ in what waiting
 * helps: `pair` (131056, "(Business Account, Consumer Account) pair rate limit hit": too many messages from this
 * number to the same guest in a short time) passes for that guest alone, and other guests can be written to at once;
 * `spam` (131048, "Spam rate limit hit": sends from this number restricted because too many earlier messages were
 * blocked or reported) holds for the number until its quality recovers; `throughput` (130429, the number's
 * messages per second), `account` (80007, the WhatsApp Business Account's limit) and `app` (4, the app's API call
 * limit) pass with time. `http` is a 429 without one of these codes.
 */
export type GraphRateLimit = 'pair' | 'spam' | 'throughput' | 'account' | 'app' | 'http';

const rateLimitCodes: ReadonlyMap<number, GraphRateLimit> = new Map([
  [4, 'app'],
  [80007, 'account'],
  [130429, 'throughput'],
  [131048, 'spam'],
  [131056, 'pair'],
]);
/** Meta or its network failed in a way that passes: unknown error, service down, temporarily unavailable. */
const transientCodes = new Set([1, 2, 131000, 131016, 133004]);
/** Our access token was not accepted (0: AuthException; 190: expired or revoked). */
const authCodes = new Set([0, 190]);
/** Retrying these cannot help: the recipient, the content or the 24 h window is the problem. */
const permanentCodes = new Set([
  100, // invalid parameter
  131008, // required parameter missing
  131009, // parameter value invalid
  131021, // recipient cannot be sender
  131026, // message undeliverable (not a WhatsApp user, old app, ...)
  131030, // recipient not in allowed list (test numbers)
  131047, // re-engagement message: more than 24 h since the guest last wrote
  131051, // unsupported message type
  131052, // media download error
  131053, // media upload error
  470, // legacy re-engagement error
]);

const graphErrorSchema = z.object({
  error: z.object({
    message: z.string().default(''),
    type: z.string().optional(),
    code: z.number().int(),
    error_subcode: z.number().int().optional(),
    fbtrace_id: z.string().optional(),
  }),
});

/** What a Graph API error answer means for whoever made the call. */
export type GraphErrorKind =
  { kind: 'rate_limited'; limit: GraphRateLimit } | { kind: 'auth' } | { kind: 'transient' } | { kind: 'permanent' };

export type GraphError = GraphErrorKind & {
  httpStatus: number;
  /** Meta's `code`, when the body carried one. */
  code: number | undefined;
  subcode: number | undefined;
  fbtraceId: string | undefined;
  /** Meta's `message`, or a stand-in when the body was unreadable. May name a phone number: mask it before use. */
  metaMessage: string;
};

/**
 * Classifies a Graph API answer that is not a success, in this order: a rate-limit code or HTTP 429; an auth code
 * or 401; a 5xx or transient code; a permanent code or any other 4xx; anything else is transient. So a 400 carrying
 * 131056 is a rate limit, not a refusal.
 */
export function classifyGraphError(httpStatus: number, body: unknown): GraphError {
  const parsed = graphErrorSchema.safeParse(body);
  const error = parsed.success ? parsed.data.error : undefined;
  const code = error?.code;
  const known = (codes: ReadonlySet<number>) => code !== undefined && codes.has(code);
  const base = {
    httpStatus,
    code,
    subcode: error?.error_subcode,
    fbtraceId: error?.fbtrace_id,
    metaMessage: error ? error.message : 'unreadable error body',
  };
  const limit = code === undefined ? undefined : rateLimitCodes.get(code);
  if (limit !== undefined) return { ...base, kind: 'rate_limited', limit };
  if (httpStatus === 429) return { ...base, kind: 'rate_limited', limit: 'http' };
  if (httpStatus === 401 || known(authCodes)) return { ...base, kind: 'auth' };
  if (httpStatus >= 500 || known(transientCodes)) return { ...base, kind: 'transient' };
  if (known(permanentCodes) || (httpStatus >= 400 && httpStatus < 500)) return { ...base, kind: 'permanent' };
  return { ...base, kind: 'transient' };
}

/** The details a failure built from a Graph error carries: status and Meta's ids, never its message. */
export function graphErrorDetails(error: GraphError): Record<string, unknown> {
  return {
    httpStatus: error.httpStatus,
    ...(error.code !== undefined ? { code: error.code } : {}),
    ...(error.subcode !== undefined ? { subcode: error.subcode } : {}),
    ...(error.fbtraceId !== undefined ? { fbtraceId: error.fbtraceId } : {}),
    ...(error.kind === 'rate_limited' ? { rateLimit: error.limit } : {}),
  };
}

/**
 * The `ApplicationFailure` for a classified error. Rate limits are `WhatsAppRateLimited`, retried after the server's
 * `Retry-After` (clamped) when it sent one; a refused token is a retryable `WhatsAppAuthError` (retried for the
 * configuration bound); the rest are `types.transient` (retryable) and, when given, `types.permanent` (not).
 */
export function graphFailure(
  error: GraphError,
  message: string,
  retryAfter: string | string[] | undefined,
  types: { transient: ErrorTypeName; permanent?: ErrorTypeName },
): ApplicationFailure {
  const details = graphErrorDetails(error);
  switch (error.kind) {
    case 'rate_limited':
      return retryableFailure(ErrorType.WhatsAppRateLimited, message, details, retryAfterMs(retryAfter));
    case 'auth':
      return ApplicationFailure.retryable(message, ErrorType.WhatsAppAuthError, details);
    case 'permanent':
      if (types.permanent) return ApplicationFailure.nonRetryable(message, types.permanent, details);
      return ApplicationFailure.retryable(message, types.transient, details);
    case 'transient':
      return ApplicationFailure.retryable(message, types.transient, details);
  }
}
