import { ApplicationFailure, Context } from '@temporalio/activity';
import type Redis from 'ioredis';
import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import type { Config } from '../lib/config';
import { ErrorType } from '../lib/domain/errors';
import type { Logger } from '../lib/log';
import {
  createFileMediaStore,
  createMediaIndex,
  MediaIntegrityError,
  MediaTooLargeError,
  type MediaIndexEntry,
  type MediaStore,
} from '../lib/media-store';
import {
  isAllowedMime,
  mediaPolicy,
  mediaTypes,
  mimeEssence,
  parseMediaRef,
  type DeletedMedia,
  type DownloadMediaInput,
  type DownloadMediaResult,
  type MediaRejectionReason,
  type TranscribeAudioInput,
  type TranscribeAudioResult,
} from '../lib/domain/media';
import { isTenantId } from '../lib/domain/tenants';
import { requireSecret, type SecretResolver } from '../lib/secrets';
import { createTranscriber, noTranscriber, type Transcriber } from './transcription';
import { errorCode, isNetworkError, parseJsonOrUndefined, retryAfterMs } from '../lib/http';

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

/** The MIME type of an audio file from its first bytes, for refs stored without one. */
export function sniffAudioMime(head: Buffer): string | undefined {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (ascii(0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(0, 5) === '#!AMR') return 'audio/amr';
  if (ascii(4, 8) === 'ftyp') return 'audio/mp4';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(0, 3) === 'ID3') return 'audio/mpeg';
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) {
    // MPEG frame sync; layer bits 00 under MPEG-2/4 sync 0xFFF is an ADTS (AAC) header.
    return (head[1]! & 0xf6) === 0xf0 ? 'audio/aac' : 'audio/mpeg';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Graph API media endpoints
// ---------------------------------------------------------------------------------------------------------------

const fileSize = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/).transform(Number)]);
/** `GET /<version>/<media-id>` (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media). */
const metadataSchema = z.object({
  url: z.string().min(1),
  mime_type: z.string().min(1),
  sha256: z.string().optional(),
  file_size: fileSize.optional(),
  id: z.string().optional(),
});
type Metadata = z.output<typeof metadataSchema>;

const graphErrorSchema = z.object({
  error: z
    .object({ code: z.number().int(), error_subcode: z.number().int().optional(), message: z.string() })
    .partial(),
});

/** A media URL lives 5 minutes; a 404/401 on it fetches a fresh one this many times within one attempt. */
const maxUrlRefreshes = 2;
/** Redis holds only the index here: an operation slower than this is abandoned, not waited for. */
const redisTimeoutMs = 1_000;
/** How long the sha256-mismatch count of a media id is kept. */
const mismatchMarkerTtlSeconds = 24 * 60 * 60;
const mediaIdPattern = /^[A-Za-z0-9_.-]{1,128}$/;

/** A filesystem error (it names the system call that failed): disk full, read-only, permissions. */
function isStoreError(err: unknown): boolean {
  return typeof (err as { syscall?: unknown } | undefined)?.syscall === 'string';
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function mediaUnavailable(message: string, details: Record<string, unknown> = {}, nextRetryDelayMs?: number) {
  return ApplicationFailure.create({
    type: ErrorType.MediaUnavailable,
    message,
    nonRetryable: false,
    details: [details],
    ...(nextRetryDelayMs !== undefined ? { nextRetryDelay: nextRetryDelayMs } : {}),
  });
}

function invalid(message: string) {
  return ApplicationFailure.nonRetryable(message, ErrorType.MediaInvalidRequest);
}

export function mismatchMarkerKey(tenantId: string, mediaId: string): string {
  return `media:sha-mismatch:${tenantId}:${mediaId}`;
}

/** The heartbeat details of `downloadMedia`. */
interface DownloadProgress {
  mediaId: string;
  bytes: number;
  total?: number | undefined;
}

export interface MediaActivityDeps {
  /** The process's pooled keep-alive dispatcher; every Graph and media request goes through it. */
  http: Dispatcher;
  /**
   * The transcription service's dispatcher, with the network policy of `TRANSCRIPTION_ALLOW_PRIVATE_NETWORKS`
   * (`createHttpAgent({ addressPolicy })`); required when `TRANSCRIPTION_URL` is set and no transcriber is given.
   */
  transcriptionHttp?: Dispatcher;
  redis: Redis;
  config: Config;
  secrets: SecretResolver;
  log: Logger;
  /** The local filesystem store under `MEDIA_DIR` by default. */
  store?: MediaStore;
  /** From `TRANSCRIPTION_*` by default: none, or the OpenAI-compatible one. */
  transcriber?: Transcriber;
}

/**
 * The media activities: Meta's two-step download into the content-addressed store, voice-note transcription, and
 * the expiry job. Business outcomes (too large, MIME type not allowed, corrupt, gone at Meta) are return values;
 * failures are `ApplicationFailure`s whose type says whether retrying can help.
 */
export function createMediaActivities(deps: MediaActivityDeps) {
  const { http, redis, config, secrets, log } = deps;
  const store = deps.store ?? createFileMediaStore({ dir: config.media.dir });
  const index = createMediaIndex(redis, { ttlSeconds: config.media.indexTtlSeconds });
  if (!deps.transcriber && config.media.transcription && !deps.transcriptionHttp) {
    throw new Error('createMediaActivities: TRANSCRIPTION_URL is set, so transcriptionHttp is required');
  }
  const transcriber =
    deps.transcriber ??
    createTranscriber(config.media.transcription, deps.transcriptionHttp ?? http, {
      timeoutMs: config.media.downloadTimeoutMs,
    });
  const graphBase = `${config.whatsapp.graphBaseUrl}/${config.whatsapp.graphApiVersion}`;
  const graphIsHttps = config.whatsapp.graphBaseUrl.startsWith('https:');
  const metadataTimeoutMs = config.whatsapp.httpTimeoutMs;
  const downloadTimeoutMs = config.media.downloadTimeoutMs;

  /** Redis is only the index: when it is down, downloads go on (the store is content-addressed anyway). */
  async function tolerant<T>(what: string, op: () => Promise<T>): Promise<T | undefined> {
    try {
      return await withTimeout(op(), redisTimeoutMs);
    } catch (err) {
      log.warn({ err: describeError(err) }, `media index: ${what} failed (Redis); carrying on without it`);
      return undefined;
    }
  }

  function storeFailure(err: unknown, what: string): ApplicationFailure {
    return ApplicationFailure.retryable(
      `Media store failed to ${what}: ${errorCode(err) ?? describeError(err)}`,
      ErrorType.MediaStoreUnavailable,
    );
  }

  async function fetchMetadata(mediaId: string, token: string, signal: AbortSignal): Promise<Metadata | 'not_found'> {
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await request(`${graphBase}/${encodeURIComponent(mediaId)}`, {
        method: 'GET',
        dispatcher: http,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        headersTimeout: metadataTimeoutMs,
        bodyTimeout: metadataTimeoutMs,
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
    const error = graphErrorSchema.safeParse(json).data?.error;
    const details = { httpStatus: status, code: error?.code, subcode: error?.error_subcode };
    const message = `Graph media endpoint answered HTTP ${status}${error?.code !== undefined ? `, code ${error.code}` : ''}`;
    // Meta answers an id that does not exist (or no longer does: ids live 7 days) with 400, code 100, subcode 33.
    if (status === 404 || status === 410 || (status === 400 && error?.code === 100)) return 'not_found';
    if (status === 401 || error?.code === 190) {
      throw ApplicationFailure.retryable(`${message}: access token refused`, ErrorType.WhatsAppAuthError, details);
    }
    if (status === 429 || error?.code === 4 || error?.code === 80007 || error?.code === 130429) {
      const delay = retryAfterMs(response.headers['retry-after']);
      throw ApplicationFailure.create({
        type: ErrorType.WhatsAppRateLimited,
        message,
        details: [details],
        ...(delay !== undefined ? { nextRetryDelay: delay } : {}),
      });
    }
    throw mediaUnavailable(message, details);
  }

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
    if (!isAllowedMediaHost(url.hostname, config.media.allowedHosts)) {
      throw ApplicationFailure.nonRetryable(
        `Graph media endpoint answered with a media URL on ${url.hostname}, which is not in MEDIA_ALLOWED_HOSTS ` +
          `(${config.media.allowedHosts.join(', ')}); nothing was sent to it`,
        ErrorType.ConfigurationFailure,
        { kind: 'media_host' },
      );
    }
    return url.toString();
  }

  /**
   * The refusal this tenant's quota or the disk's free space calls for before `bytes` more are fetched: a
   * condition of the moment, so it is returned, not indexed. Redis down: the quota is not checked (best effort).
   */
  async function storageRefusal(
    tenantId: string,
    bytes: number,
  ): Promise<'quota_exceeded' | 'storage_full' | undefined> {
    const { tenantQuotaBytes, minFreeBytes } = config.media;
    if (tenantQuotaBytes > 0) {
      const used = await tolerant('read the tenant usage', () => index.usage(tenantId));
      if (used !== undefined && used + bytes > tenantQuotaBytes) return 'quota_exceeded';
    }
    if (minFreeBytes > 0) {
      let free: number | undefined;
      try {
        free = await store.freeBytes();
      } catch (err) {
        throw storeFailure(err, 'read its free space');
      }
      if (free !== undefined && free - bytes < minFreeBytes) return 'storage_full';
    }
    return undefined;
  }

  /** Counts sha256/size mismatches of a media id across attempts: in Redis, or by attempt number without it. */
  async function countMismatch(tenantId: string, mediaId: string): Promise<number> {
    const key = mismatchMarkerKey(tenantId, mediaId);
    const counted = await tolerant('count sha256 mismatch', async () => {
      const replies = await redis.multi().incr(key).expire(key, mismatchMarkerTtlSeconds).exec();
      const count = replies?.[0]?.[1];
      if (typeof count !== 'number') throw new Error('INCR gave no count');
      return count;
    });
    return counted ?? Context.current().info.attempt;
  }

  async function reject(
    input: DownloadMediaInput,
    reason: MediaRejectionReason,
    extra: { mimeType?: string; size?: number } = {},
  ): Promise<DownloadMediaResult> {
    log.info({ tenantId: input.tenantId, mediaId: input.mediaId, type: input.type, reason }, 'media refused');
    const entry: MediaIndexEntry = {
      status: 'rejected',
      tenantId: input.tenantId,
      mediaId: input.mediaId,
      type: input.type,
      reason,
      ...extra,
      recordedAt: new Date().toISOString(),
    };
    await tolerant('record refusal', () => index.put(entry));
    return { kind: 'rejected', reason };
  }

  /** The refusal Meta's declared metadata already justifies, before any byte is fetched. */
  function refusalFor(input: DownloadMediaInput, meta: Metadata): MediaRejectionReason | undefined {
    if (!isAllowedMime(input.type, meta.mime_type)) return 'mime_not_allowed';
    if (meta.file_size !== undefined && meta.file_size > mediaPolicy[input.type].maxBytes) return 'too_large';
    return undefined;
  }

  function validate(input: DownloadMediaInput): void {
    if (!isTenantId(input.tenantId)) throw invalid('tenantId must be a tenant slug');
    if (!mediaIdPattern.test(input.mediaId)) throw invalid('mediaId is not a WhatsApp media id');
    if (!(mediaTypes as readonly string[]).includes(input.type)) throw invalid(`unknown media type ${input.type}`);
  }

  async function download(input: DownloadMediaInput, progress: DownloadProgress): Promise<DownloadMediaResult> {
    const signal = Context.current().cancellationSignal;
    const { tenantId, mediaId, type } = input;
    const policy = mediaPolicy[type];
    const token = input.tokenRef
      ? requireSecret(secrets, tenantId, input.tokenRef, 'WhatsApp token')
      : config.whatsapp.accessToken;

    const existing = await tolerant('read', () => index.get(tenantId, mediaId));
    if (existing?.status === 'rejected') return { kind: 'rejected', reason: existing.reason };
    if (existing?.status === 'stored') {
      let present: boolean;
      try {
        present = await store.touch(existing.ref);
      } catch (err) {
        throw storeFailure(err, 'renew an object');
      }
      if (present) {
        await tolerant('renew', () => index.renew(tenantId, mediaId));
        const { sha256, size, mimeType, ref } = existing;
        return { kind: 'stored', mediaId, sha256, size, mimeType, ref };
      }
      // Indexed but gone from the store (expired, or another disk): fetch it again while Meta still has it.
    }

    if (input.declaredMimeType !== undefined && !isAllowedMime(type, input.declaredMimeType)) {
      return reject(input, 'mime_not_allowed', { mimeType: input.declaredMimeType });
    }

    // A killed earlier attempt may have left a partial file; this attempt starts afresh.
    try {
      await store.discardPartials(tenantId, mediaId);
    } catch (err) {
      throw storeFailure(err, 'discard partial files');
    }

    let meta = await fetchMetadata(mediaId, token, signal);
    if (meta === 'not_found') return reject(input, 'not_found');
    let refusal = refusalFor(input, meta);
    if (refusal) return reject(input, refusal, { mimeType: meta.mime_type, ...sizeOf(meta) });
    const room = await storageRefusal(tenantId, meta.file_size ?? policy.maxBytes);
    if (room) {
      log.warn({ tenantId, mediaId, type, reason: room }, 'media not stored: no room');
      return { kind: 'rejected', reason: room };
    }

    let download: Dispatcher.ResponseData | undefined;
    for (let refreshes = 0; download === undefined; refreshes++) {
      let response: Dispatcher.ResponseData;
      try {
        response = await request(checkMediaUrl(meta.url), {
          method: 'GET',
          dispatcher: http,
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
      if (status >= 200 && status < 300) {
        download = response;
        break;
      }
      // A small error body: read it so the keep-alive connection is reused (dump() gives up on a large one).
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      // Media URLs expire after 5 minutes: a fresh metadata GET gives a new one.
      if ((status === 404 || status === 401 || status === 410) && refreshes < maxUrlRefreshes) {
        log.info({ tenantId, mediaId, status }, 'media URL refused; fetching a fresh one');
        meta = await fetchMetadata(mediaId, token, signal);
        if (meta === 'not_found') return reject(input, 'not_found');
        refusal = refusalFor(input, meta);
        if (refusal) return reject(input, refusal, { mimeType: meta.mime_type, ...sizeOf(meta) });
        continue;
      }
      throw mediaUnavailable(
        `Media download answered HTTP ${status}${refreshes > 0 ? ` after ${refreshes} fresh URLs` : ''}`,
        { httpStatus: status },
        status === 429 ? retryAfterMs(response.headers['retry-after']) : undefined,
      );
    }

    const { body } = download;
    const contentLength = Number(download.headers['content-length'] ?? NaN);
    if (Number.isFinite(contentLength) && contentLength > policy.maxBytes) {
      body.on('error', () => undefined).destroy();
      return reject(input, 'too_large', { mimeType: meta.mime_type, size: contentLength });
    }

    const expectedSha256 = [
      ...new Set(
        [meta.sha256, input.declaredSha256].flatMap((declared) => {
          if (declared === undefined) return [];
          const hex = sha256Hex(declared);
          if (hex === undefined) log.warn({ tenantId, mediaId }, 'declared sha256 is neither hex nor base64; ignored');
          return hex === undefined ? [] : [hex];
        }),
      ),
    ];
    const total = meta.file_size;
    progress.total = total;
    let stored;
    try {
      stored = await store.put(body, {
        tenantId,
        key: mediaId,
        maxBytes: policy.maxBytes,
        expectedSha256,
        ...(total !== undefined ? { expectedSize: total } : {}),
        signal,
        onProgress: (bytes) => {
          progress.bytes = bytes;
        },
      });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof MediaTooLargeError) {
        return reject(input, 'too_large', { mimeType: meta.mime_type, ...sizeOf(meta) });
      }
      if (err instanceof MediaIntegrityError) {
        const mismatches = await countMismatch(tenantId, mediaId);
        log.warn({ tenantId, mediaId, what: err.what, mismatches }, 'media does not match what Meta declared');
        if (mismatches >= 2) return reject(input, 'corrupt', { mimeType: meta.mime_type, ...sizeOf(meta) });
        throw ApplicationFailure.retryable(
          `Downloaded media does not match its declared ${err.what}; retrying once`,
          ErrorType.MediaIntegrityError,
          { what: err.what, mismatches },
        );
      }
      if (isNetworkError(err)) throw mediaUnavailable(`Media download failed: ${describeError(err)}`);
      if (isStoreError(err)) throw storeFailure(err, 'write');
      throw err;
    }
    const result: DownloadMediaResult = {
      kind: 'stored',
      mediaId,
      sha256: stored.sha256,
      size: stored.size,
      mimeType: meta.mime_type,
      ref: stored.ref,
    };
    await tolerant('write', () =>
      index.put({ status: 'stored', tenantId, type, ...result, recordedAt: new Date().toISOString() }),
    );
    await tolerant('clear sha256 mismatch count', () => redis.del(mismatchMarkerKey(tenantId, mediaId)));
    if (!stored.deduplicated) await tolerant('count the tenant usage', () => index.addUsage(tenantId, stored.size));
    log.info({ tenantId, mediaId, type, size: stored.size, deduplicated: stored.deduplicated }, 'media stored');
    return result;
  }

  const activities = {
    /**
     * Downloads a guest's media from Meta into the media store, once per media id: `GET /<version>/<media-id>` for
     * a short-lived URL, then `GET <url>` with the same bearer token, streamed through a size limit and sha256
     * into a temporary file that is renamed into place only once verified. A second call for a stored media id
     * returns the stored object without downloading.
     *
     * Refusals are results: `too_large` (declared or while streaming), `mime_not_allowed`, `not_found` (gone at
     * Meta), `corrupt` (a second sha256/size mismatch). Failures: `MediaUnavailable`, `MediaIntegrityError` (first
     * mismatch), `MediaStoreUnavailable`, `WhatsAppAuthError`, `WhatsAppRateLimited`, `SecretUnavailable` are
     * retryable; `MediaInvalidRequest` is not. Heartbeats `{ mediaId, bytes, total }` every second; give it a
     * heartbeat timeout so a killed worker's attempt is retried promptly.
     */
    async downloadMedia(input: DownloadMediaInput): Promise<DownloadMediaResult> {
      validate(input);
      const ctx = Context.current();
      const progress: DownloadProgress = { mediaId: input.mediaId, bytes: 0 };
      // On a timer rather than per chunk: it shows the worker is alive while it waits for Meta as well. A body that
      // stalls is caught by the body timeout, not by the heartbeat.
      ctx.heartbeat({ ...progress });
      const beat = setInterval(() => ctx.heartbeat({ ...progress }), 1_000);
      try {
        return await download(input, progress);
      } finally {
        clearInterval(beat);
        ctx.heartbeat({ ...progress });
      }
    },

    /**
     * What the guest said in a voice note, through the configured {@link Transcriber}: `{ text: null }` when there
     * is none (the default), when it heard nothing, or when the object is no longer stored. Failures:
     * `TranscriptionUnavailable` (retryable), `TranscriptionRejected` and `MediaInvalidRequest` (not).
     */
    async transcribeAudio(input: TranscribeAudioInput): Promise<TranscribeAudioResult> {
      const parsed = parseMediaRef(input.ref);
      if (!parsed || parsed.tenantId !== input.tenantId) throw invalid('ref is not a media ref of this tenant');
      if (transcriber === noTranscriber) return { text: null };
      const ctx = Context.current();
      let mimeType = input.mimeType;
      let audio: Blob | undefined;
      try {
        if (mimeType === undefined) {
          const head = await store.open(input.ref);
          if (head) {
            const first = await new Promise<Buffer>((resolve, reject) => {
              const chunks: Buffer[] = [];
              let length = 0;
              head.on('data', (chunk: Buffer) => {
                chunks.push(chunk);
                length += chunk.length;
                if (length >= 16) head.destroy();
              });
              head.on('close', () => resolve(Buffer.concat(chunks)));
              head.on('error', reject);
            });
            mimeType = sniffAudioMime(first) ?? 'audio/ogg';
          }
        }
        audio = await store.openBlob(input.ref, mimeType && mimeEssence(mimeType));
      } catch (err) {
        throw storeFailure(err, 'read an object');
      }
      if (!audio) {
        log.warn({ tenantId: input.tenantId }, 'voice note no longer stored; not transcribed');
        return { text: null };
      }
      // Proves the worker is alive while the service works (a heartbeat timeout then catches a dead worker).
      const beat = setInterval(() => ctx.heartbeat(), 2_000);
      try {
        const text = await transcriber.transcribe({
          audio,
          mimeType: mimeType ?? 'audio/ogg',
          signal: ctx.cancellationSignal,
          ...(input.language ? { language: input.language } : {}),
        });
        return text === null ? { text: null } : { text };
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw err;
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Deletes stored objects not stored or asked for within `MEDIA_INDEX_TTL_SECONDS` (their index entries expire
     * in Redis at the same time), and partial files a killed download left behind. Run by the `media-cleanup`
     * schedule; heartbeats while it walks the store.
     */
    async deleteExpiredMedia(): Promise<DeletedMedia> {
      const ctx = Context.current();
      const now = Date.now();
      // A live download writes at least every downloadTimeoutMs (or fails); anything this old is abandoned.
      const partialAgeMs = Math.max(15 * 60_000, 4 * downloadTimeoutMs);
      try {
        const { objects, partials, tenantBytes } = await store.deleteExpired({
          objectsOlderThan: new Date(now - config.media.indexTtlSeconds * 1000),
          partialsOlderThan: new Date(now - partialAgeMs),
          onProgress: (visited) => ctx.heartbeat({ visited }),
          signal: ctx.cancellationSignal,
        });
        // The walk saw every object: its totals replace the quota counters (which drift if Redis lost them).
        await tolerant('recount tenant usage', () => index.setUsage(tenantBytes));
        log.info({ deleted: objects, partialsDeleted: partials }, 'expired media deleted');
        return { deleted: objects, partialsDeleted: partials };
      } catch (err) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw storeFailure(err, 'delete expired objects');
      }
    },
  };
  return activities;
}

/** Whether `host` is one of `allowed` (exact, or a subdomain of a `*.domain` entry). */
export function isAllowedMediaHost(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase();
  return allowed.some((entry) =>
    entry.startsWith('*.') ? name.endsWith(entry.slice(1)) && name.length > entry.length - 1 : name === entry,
  );
}

function sizeOf(meta: Metadata): { size?: number } {
  return meta.file_size !== undefined ? { size: meta.file_size } : {};
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
