import { Agent, errors as undiciErrors } from 'undici';

export interface HttpAgentOptions {
  maxConnectionsPerOrigin: number;
  connectTimeoutMs?: number;
}

/**
 * The one pooled, keep-alive HTTP agent of a process. Clients receive it as a dependency; none creates
 * its own per request, so connections to Meta (and later the PMS) are reused.
 */
export function createHttpAgent({ maxConnectionsPerOrigin, connectTimeoutMs = 5_000 }: HttpAgentOptions): Agent {
  return new Agent({
    connections: maxConnectionsPerOrigin,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connect: { timeout: connectTimeoutMs },
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

/** A response body as JSON, or `undefined` when it is empty or not JSON (error bodies often are neither). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
