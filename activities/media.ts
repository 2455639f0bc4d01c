import { ApplicationFailure, Context } from '@temporalio/activity';
import type Redis from 'ioredis';
import type { Dispatcher } from 'undici';
import { mediaUnavailable, sha256Hex, type GraphClient, type MediaMetadata } from '../clients/whatsapp-graph';
import type { Config } from '../lib/config';
import { ErrorType } from '../lib/domain/errors';
import {
  isAllowedMime,
  mediaPolicy,
  mediaTypes,
  type DeletedMedia,
  type DownloadMediaInput,
  type DownloadMediaResult,
  type GuestMediaErasure,
  type GuestMediaErasureInput,
  type MediaRejectionReason,
} from '../lib/domain/media';
import { isGuestRef } from '../lib/domain/guests';
import { isTenantId } from '../lib/domain/tenants';
import { eraseGuestMedia, recordGuestMedia } from '../lib/guest-media';
import { describeError, errorCode, isNetworkError, retryAfterMs } from '../lib/http';
import type { Logger } from '../lib/log';
import type { MediaIndex, MediaIndexEntry } from '../lib/media-index';
import { MediaIntegrityError, MediaTooLargeError, type MediaStore } from '../lib/media-store';
import { withTimeout } from '../lib/redis';
import { requireSecret, type SecretResolver } from '../lib/secrets';

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

/** A retryable `MediaStoreUnavailable`: the store could not do `what`. */
export function storeFailure(err: unknown, what: string): ApplicationFailure {
  return ApplicationFailure.retryable(
    `Media store failed to ${what}: ${errorCode(err) ?? describeError(err)}`,
    ErrorType.MediaStoreUnavailable,
  );
}

/** A non-retryable `MediaInvalidRequest`: the request can never succeed. */
export function invalidMediaRequest(message: string) {
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
  /** The worker's Graph API client: media metadata and file requests. */
  graph: GraphClient;
  /** Where the bytes go: the local filesystem store under `MEDIA_DIR` in the worker. */
  store: MediaStore;
  /** Media id → stored object or refusal, in Redis. */
  index: MediaIndex;
  redis: Redis;
  config: Config;
  secrets: SecretResolver;
  log: Logger;
}

/**
 * The media activities: Meta's two-step download into the content-addressed store, and the expiry job. Business outcomes (too large, MIME type not allowed, corrupt, gone at Meta) are return values;
 * failures are `ApplicationFailure`s whose type says whether retrying can help.
 */
export function createMediaActivities(deps: MediaActivityDeps) {
  const { graph, store, index, redis, config, secrets, log } = deps;
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
  function refusalFor(input: DownloadMediaInput, meta: MediaMetadata): MediaRejectionReason | undefined {
    if (!isAllowedMime(input.type, meta.mimeType)) return 'mime_not_allowed';
    if (meta.fileSize !== undefined && meta.fileSize > mediaPolicy[input.type].maxBytes) return 'too_large';
    return undefined;
  }

  function validate(input: DownloadMediaInput): void {
    if (!isTenantId(input.tenantId)) throw invalidMediaRequest('tenantId must be a tenant slug');
    if (!mediaIdPattern.test(input.mediaId)) throw invalidMediaRequest('mediaId is not a WhatsApp media id');
    if (!(mediaTypes as readonly string[]).includes(input.type))
      throw invalidMediaRequest(`unknown media type ${input.type}`);
    if (input.guestRef !== undefined && !isGuestRef(input.guestRef))
      throw invalidMediaRequest('guestRef is not a guest reference');
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

    let meta = await graph.media.metadata(mediaId, token, signal);
    if (meta === 'not_found') return reject(input, 'not_found');
    let refusal = refusalFor(input, meta);
    if (refusal) return reject(input, refusal, { mimeType: meta.mimeType, ...sizeOf(meta) });
    const room = await storageRefusal(tenantId, meta.fileSize ?? policy.maxBytes);
    if (room) {
      log.warn({ tenantId, mediaId, type, reason: room }, 'media not stored: no room');
      return { kind: 'rejected', reason: room };
    }

    let download: Dispatcher.ResponseData | undefined;
    for (let refreshes = 0; download === undefined; refreshes++) {
      const answer = await graph.media.file(meta.url, token, signal);
      if (answer.ok) {
        download = answer.response;
        break;
      }
      const status = answer.httpStatus;
      // Media URLs expire after 5 minutes: a fresh metadata GET gives a new one.
      if ((status === 404 || status === 401 || status === 410) && refreshes < maxUrlRefreshes) {
        log.info({ tenantId, mediaId, status }, 'media URL refused; fetching a fresh one');
        meta = await graph.media.metadata(mediaId, token, signal);
        if (meta === 'not_found') return reject(input, 'not_found');
        refusal = refusalFor(input, meta);
        if (refusal) return reject(input, refusal, { mimeType: meta.mimeType, ...sizeOf(meta) });
        continue;
      }
      throw mediaUnavailable(
        `Media download answered HTTP ${status}${refreshes > 0 ? ` after ${refreshes} fresh URLs` : ''}`,
        { httpStatus: status },
        status === 429 ? retryAfterMs(answer.retryAfter) : undefined,
      );
    }

    const { body } = download;
    const contentLength = Number(download.headers['content-length'] ?? NaN);
    if (Number.isFinite(contentLength) && contentLength > policy.maxBytes) {
      body.on('error', () => undefined).destroy();
      return reject(input, 'too_large', { mimeType: meta.mimeType, size: contentLength });
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
    const total = meta.fileSize;
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
        return reject(input, 'too_large', { mimeType: meta.mimeType, ...sizeOf(meta) });
      }
      if (err instanceof MediaIntegrityError) {
        const mismatches = await countMismatch(tenantId, mediaId);
        log.warn({ tenantId, mediaId, what: err.what, mismatches }, 'media does not match what Meta declared');
        if (mismatches >= 2) return reject(input, 'corrupt', { mimeType: meta.mimeType, ...sizeOf(meta) });
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
      mimeType: meta.mimeType,
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
        const result = await download(input, progress);
        const { guestRef } = input;
        if (guestRef !== undefined) {
          // Lists the media with the guest's data (export, erasure); like the index, best effort while Redis is down.
          const sha256 = result.kind === 'stored' ? result.sha256 : undefined;
          await tolerant("record the guest's media", () =>
            recordGuestMedia(
              redis,
              { tenantId: input.tenantId, guestRef, mediaId: input.mediaId, sha256 },
              config.media.indexTtlSeconds,
            ),
          );
        }
        return result;
      } finally {
        clearInterval(beat);
        ctx.heartbeat({ ...progress });
      }
    },

    /**
     * Erases the media a guest sent to a tenant (the guest's data rights): the stored objects no other guest of the
     * tenant holds, and the index entries. Run by the `guestMediaErasure` workflow, which the admin API's
     * `DELETE /admin/guests/:phone` starts. Failures of Redis or the store are retried; it is safe to run again.
     */
    async eraseGuestMedia({ tenantId, guestRef }: GuestMediaErasureInput): Promise<GuestMediaErasure> {
      if (!isTenantId(tenantId)) throw invalidMediaRequest('tenantId must be a tenant slug');
      if (!isGuestRef(guestRef)) throw invalidMediaRequest('guestRef is not a guest reference');
      try {
        const erased = await eraseGuestMedia(redis, store, index, tenantId, guestRef);
        log.info({ tenantId, ...erased }, "guest's media erased");
        return erased;
      } catch (err) {
        if (isStoreError(err)) throw storeFailure(err, "delete a guest's media");
        throw err;
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

function sizeOf(meta: MediaMetadata): { size?: number } {
  return meta.fileSize !== undefined ? { size: meta.fileSize } : {};
}

export type MediaActivities = ReturnType<typeof createMediaActivities>;
