import { ApplicationFailure } from '@temporalio/common';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ErrorType } from '../../lib/domain/errors';
import { retryableFailure } from '../../lib/failures';
import { describeError, isNetworkError, parseJsonOrUndefined } from '../../lib/http';
import { classifyGraphError, graphFailure } from './errors';
import type { GraphClientOptions } from './options';

/**
 * Meta's two-step media download (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media):
 * `GET /<version>/<media-id>` gives a URL that lives 5 minutes, with the MIME type, sha256 and size; `GET <url>`,
 * with the same bearer token, gives the bytes.
 */

const fileSize = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
const metadataSchema = z
  .object({
    url: z.string().min(1),
    mime_type: z.string().min(1),
    sha256: z.string().optional(),
    file_size: fileSize.optional(),
  })
  .transform(({ url, mime_type: mimeType, sha256, file_size: size }) => ({
    url,
    mimeType,
    ...(sha256 !== undefined ? { sha256 } : {}),
    ...(size !== undefined ? { fileSize: size } : {}),
  }));

/** What Meta declares about a media id. */
export type MediaMetadata = z.output<typeof metadataSchema>;

/** The file request's answer: the streaming response, or the status it was refused with (body already drained). */
export type MediaFileAnswer =
  | { ok: true; response: Dispatcher.ResponseData }
  | { ok: false; httpStatus: number; retryAfter: string | string[] | undefined };

/** A retryable `MediaUnavailable`: Meta's media endpoints or the network failed in a way that may pass. */
export function mediaUnavailable(message: string, details: Record<string, unknown> = {}, nextRetryDelayMs?: number) {
  return retryableFailure(ErrorType.MediaUnavailable, message, details, nextRetryDelayMs);
}

/** Whether `host` is one of `allowed` (exact, or a subdomain of a `*.domain` entry). */
export function isAllowedMediaHost(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowed.some((entry) =>
    entry.startsWith('*.') ? name.endsWith(entry.slice(1)) && name.length > entry.length - 1 : name === entry,
  );
}

/**
 * A sha256 as hex, from hex or base64 (the webhook sends base64; hex is accepted too), or undefined when it is
 * neither.
 */
export function sha256Hex(value: string): string | undefined {
  const trimmed = value.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return trimmed.toLowerCase();
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes.toString('hex');
  }
  return undefined;
}

/** The media endpoints of the Graph API client. */
export function createGraphMedia(options: GraphClientOptions) {
  const { baseUrl, apiVersion, timeoutMs, downloadTimeoutMs, allowedMediaHosts, dispatcher } = options;
  const graphBase = `${baseUrl}/${apiVersion}`;
  const graphIsHttps = baseUrl.startsWith('https:');

  function checkMediaUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw mediaUnavailable('Graph media endpoint answered with a media URL that is not a URL');
    }
    // The bearer token goes to this URL: only over TLS when the Graph API itself is spoken to over TLS.
    const allowed = graphIsHttps ? url.protocol === 'https:' : url.protocol === 'https:' || url.protocol === 'http:';
    if (!allowed) throw mediaUnavailable(`Graph media endpoint answered with a ${url.protocol} media URL`);
    // ...and only to Meta's media hosts: a URL naming any other host would hand the tenant's token to it.
    if (!isAllowedMediaHost(url.hostname, allowedMediaHosts)) {
      throw ApplicationFailure.nonRetryable(
        `Graph media endpoint answered with a media URL on ${url.hostname}, which is not in MEDIA_ALLOWED_HOSTS ` +
          `(${allowedMediaHosts.join(', ')}); nothing was sent to it`,
        ErrorType.ConfigurationFailure,
        { kind: 'media_host' },
      );
    }
    return url.toString();
  }

  return {
    /**
     * `GET /<version>/<media-id>`: a fresh URL with what Meta declares, or `not_found` for an id Meta does not have
     * (any more: ids live 7 days). Failures: `WhatsAppRateLimited`, `WhatsAppAuthError`, `MediaUnavailable`.
     */
    async metadata(mediaId: string, token: string, signal: AbortSignal): Promise<MediaMetadata | 'not_found'> {
      let response: Dispatcher.ResponseData;
      let text: string;
      try {
        response = await request(`${graphBase}/${encodeURIComponent(mediaId)}`, {
          method: 'GET',
          dispatcher,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal,
        });
        text = await response.body.text();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (isNetworkError(err)) throw mediaUnavailable(`Graph media endpoint unreachable: ${describeError(err)}`);
        throw err;
      }
      const json = parseJsonOrUndefined(text);
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        const parsed = metadataSchema.safeParse(json);
        if (!parsed.success) throw mediaUnavailable(`Graph media endpoint answered HTTP ${status} without a media URL`);
        return parsed.data;
      }
      const error = classifyGraphError(status, json);
      // Meta answers an id that does not exist (or no longer does) with 400, code 100, subcode 33.
      if (status === 404 || status === 410 || (status === 400 && error.code === 100)) return 'not_found';
      const code = error.code !== undefined ? `, code ${error.code}` : '';
      const refused = error.kind === 'auth' ? ': access token refused' : '';
      const message = `Graph media endpoint answered HTTP ${status}${code}${refused}`;
      throw graphFailure(error, message, response.headers['retry-after'], { transient: ErrorType.MediaUnavailable });
    },

    /**
     * `GET <url>` with the bearer token, once the URL is checked: https (unless the Graph API itself is spoken to
     * over http, a stand-in) and a host in `allowedMediaHosts` (else a non-retryable `ConfigurationFailure`, nothing
     * sent). Redirects are not followed. A non-2xx answer is returned with its body drained, for the caller to
     * fetch a fresh URL (an expired one answers 404, 401 or 410) or give up.
     */
    async file(url: string, token: string, signal: AbortSignal): Promise<MediaFileAnswer> {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(checkMediaUrl(url), {
          method: 'GET',
          dispatcher,
          headers: { authorization: `Bearer ${token}` },
          headersTimeout: downloadTimeoutMs,
          // Between chunks: a body that stalls this long fails the attempt (retried), however large the file.
          bodyTimeout: downloadTimeoutMs,
          signal,
        });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (isNetworkError(err)) throw mediaUnavailable(`Media download unreachable: ${describeError(err)}`);
        throw err;
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { ok: true, response };
      // A small error body: read it so the keep-alive connection is reused (dump() gives up on a large one).
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      return { ok: false, httpStatus: status, retryAfter: response.headers['retry-after'] };
    },
  };
}
