import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { policyConnector } from './network-policy';

export interface HttpAgentOptions {
  maxConnectionsPerOrigin: number;
  connectTimeoutMs?: number;
  /**
   * For agents that reach addresses taken from tenant data or settings (a PMS, the transcription service): refuse
   * private, loopback, link-local and metadata addresses at connect time unless `allowPrivateNetworks`
   * (lib/network-policy.ts). Absent: no address rule (the agent that talks to Meta).
   */
  addressPolicy?: { allowPrivateNetworks: boolean };
}

/**
 * A pooled, keep-alive HTTP agent. Clients receive it as a dependency; none creates its own per request, so
 * connections to Meta (and to each PMS) are reused.
 */
export function createHttpAgent({
  maxConnectionsPerOrigin,
  connectTimeoutMs = 5_000,
  addressPolicy,
}: HttpAgentOptions): Agent {
  return new Agent({
    connections: maxConnectionsPerOrigin,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connect: addressPolicy
      ? policyConnector({ timeoutMs: connectTimeoutMs, allowPrivateNetworks: addressPolicy.allowPrivateNetworks })
      : { timeout: connectTimeoutMs },
  });
}

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** The `code` of a Node or undici error (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, ...), if it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** An error as `Name: message` for a failure message (no stack, no cause). */
export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * Whether a failed request failed on the way (refused, reset, timed out, cut off) rather than with an answer:
 * such failures may pass, so callers map them to retryable `ApplicationFailure`s.
 */
export function isNetworkError(err: unknown): boolean {
  const code = errorCode(err);
  return (
    err instanceof undiciErrors.UndiciError ||
    (code !== undefined && (code.startsWith('UND_ERR') || networkCodes.has(code))) ||
    (err instanceof Error &&
      /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|terminated|socket|other side closed/i.test(
        err.message,
      ))
  );
}

/** The longest a server's `Retry-After` may park a retry: a day-long one would stall a guest's reply for a day. */
export const maxRetryAfterMs = 5 * 60_000;

/**
 * A `Retry-After` header (delta-seconds or an HTTP-date, RFC 9110 §10.2.3) as a delay in ms for Temporal's
 * `nextRetryDelay`, clamped to {@link maxRetryAfterMs}; undefined when absent, unreadable or not in the future.
 */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!raw) return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw) - now;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, maxRetryAfterMs);
}

/** A response body as JSON, or `undefined` when it is empty or not JSON (error bodies often are neither). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** An answer longer than the cap: read no further. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

/** The body as text, refusing (and cutting off) more than `limit` bytes, declared or streamed. */
export async function readCapped(response: Dispatcher.ResponseData, limit: number): Promise<string> {
  const declared = Number(response.headers['content-length'] ?? NaN);
  const { body } = response;
  if (Number.isFinite(declared) && declared > limit) {
    body.on('error', () => undefined).destroy();
    throw new ResponseTooLargeError(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      body.on('error', () => undefined).destroy();
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
