import type Redis from 'ioredis';
import { mediaTypes, type MediaRejectionReason, type MediaType } from './domain/media';
import { tenantIdPattern } from './domain/tenants';

/**
 * The media index in Redis: WhatsApp media id → stored object (or the reason it was refused), with a TTL; the
 * per-tenant usage counters of the quota; and the bounded SCANs the admin API lists and counts it with.
 */

const indexPrefix = 'media:idx:';

export type MediaIndexEntry =
  | {
      status: 'stored';
      tenantId: string;
      mediaId: string;
      type: MediaType;
      ref: string;
      /** Hex. */
      sha256: string;
      size: number;
      mimeType: string;
      /** ISO time the entry was written. */
      recordedAt: string;
    }
  | {
      status: 'rejected';
      tenantId: string;
      mediaId: string;
      type: MediaType;
      reason: MediaRejectionReason;
      mimeType?: string;
      /** The size Meta declared, when known. */
      size?: number;
      recordedAt: string;
    };

/** A listed entry, with the seconds its index entry has left (-1: no TTL). */
export type MediaListItem = MediaIndexEntry & { expiresInSeconds: number };

/** `media:idx:<tenant>:<media id>`; every key carries the tenant. */
export function mediaIndexKey(tenantId: string, mediaId: string): string {
  return `${indexPrefix}${tenantId}:${mediaId}`;
}

function toHash(entry: MediaIndexEntry): Record<string, string> {
  const hash: Record<string, string> = {};
  for (const [field, value] of Object.entries(entry)) if (value !== undefined) hash[field] = String(value);
  return hash;
}

function fromHash(hash: Record<string, string>): MediaIndexEntry | undefined {
  const { status, tenantId, mediaId, type, recordedAt = '' } = hash;
  if (!tenantId || !mediaId || !(mediaTypes as readonly string[]).includes(type ?? '')) return undefined;
  const base = { tenantId, mediaId, type: type as MediaType, recordedAt };
  const size = hash.size !== undefined && /^\d+$/.test(hash.size) ? Number(hash.size) : undefined;
  if (status === 'stored' && hash.ref && hash.sha256 && hash.mimeType && size !== undefined) {
    return { status, ...base, ref: hash.ref, sha256: hash.sha256, size, mimeType: hash.mimeType };
  }
  const reasons: readonly string[] = ['too_large', 'mime_not_allowed', 'corrupt', 'not_found'];
  if (status === 'rejected' && hash.reason && reasons.includes(hash.reason)) {
    return {
      status,
      ...base,
      reason: hash.reason as MediaRejectionReason,
      ...(hash.mimeType ? { mimeType: hash.mimeType } : {}),
      ...(size !== undefined ? { size } : {}),
    };
  }
  return undefined;
}

/** The media index of one process: read, write and renew entries, each with the configured TTL. */
export function createMediaIndex(redis: Redis, { ttlSeconds }: { ttlSeconds: number }) {
  return {
    async get(tenantId: string, mediaId: string): Promise<MediaIndexEntry | undefined> {
      const hash = await redis.hgetall(mediaIndexKey(tenantId, mediaId));
      return fromHash(hash);
    },
    /** Replaces the entry (a refused media id later stored keeps no stale `reason`). */
    async put(entry: MediaIndexEntry, ttl = ttlSeconds): Promise<void> {
      const key = mediaIndexKey(entry.tenantId, entry.mediaId);
      await redis.multi().del(key).hset(key, toHash(entry)).expire(key, ttl).exec();
    },
    async renew(tenantId: string, mediaId: string): Promise<void> {
      await redis.expire(mediaIndexKey(tenantId, mediaId), ttlSeconds);
    },
    /** Bytes the tenant stores (distinct objects), as counted since the last cleanup recount; 0 when unknown. */
    async usage(tenantId: string): Promise<number> {
      return Number(await redis.get(mediaUsageKey(tenantId))) || 0;
    },
    /** Counts a newly stored object (not a deduplicated one) against the tenant's quota. */
    async addUsage(tenantId: string, bytes: number): Promise<void> {
      await redis.incrby(mediaUsageKey(tenantId), bytes);
    },
    /** Replaces the counters with what the cleanup found on disk. */
    async setUsage(tenantBytes: Record<string, number>): Promise<void> {
      const pipe = redis.pipeline();
      for (const [tenantId, bytes] of Object.entries(tenantBytes)) pipe.set(mediaUsageKey(tenantId), bytes);
      await pipe.exec();
    },
  };
}

/**
 * `media:usage:<tenant>`: the bytes of distinct objects the tenant stores, for `MEDIA_TENANT_QUOTA_BYTES`. Raised
 * on every new object, recounted from disk by each cleanup run (so a lost Redis, or a put racing the recount, is
 * corrected within the hour).
 */
export function mediaUsageKey(tenantId: string): string {
  return `media:usage:${tenantId}`;
}

export type MediaIndex = ReturnType<typeof createMediaIndex>;

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

function matchPattern(tenantId: string | undefined): string {
  if (tenantId === undefined) return `${indexPrefix}*`;
  if (!tenantIdPattern.test(tenantId)) throw new RangeError('tenant id must be a slug');
  return `${indexPrefix}${escapeGlob(tenantId)}:*`;
}

export interface ScanBounds {
  /** SCAN's COUNT hint per call. */
  scanCount?: number;
  /** SCAN calls at most per request, so a huge keyspace cannot make one admin request run long. */
  maxIterations?: number;
}

export interface MediaPage {
  items: MediaListItem[];
  /** Pass back to get the next page; '0' when the scan is complete. */
  cursor: string;
  done: boolean;
}

/** Largest page {@link listMedia} returns. */
export const maxMediaPageSize = 100;
const listMaxIterations = 10;

/**
 * One page of the media index, newest scan position first, for the admin API. Uses `SCAN` (never `KEYS`) with
 * COUNT = page size and at most 10 SCAN calls per page. As with any SCAN, a page may hold fewer items than asked
 * (even none) while `done` is false, may hold a few more when Redis returns a larger batch, and an entry may show
 * up on two pages; keep calling with the returned cursor until `done`.
 */
export async function listMedia(
  redis: Redis,
  options: { tenantId?: string; cursor?: string; pageSize?: number } & ScanBounds = {},
): Promise<MediaPage> {
  const pageSize = Math.min(Math.max(Math.trunc(options.pageSize ?? 50), 1), maxMediaPageSize);
  const maxIterations = Math.min(Math.max(options.maxIterations ?? listMaxIterations, 1), listMaxIterations);
  const scanCount = Math.min(Math.max(options.scanCount ?? pageSize, 1), maxMediaPageSize);
  let cursor = options.cursor ?? '0';
  if (!/^\d+$/.test(cursor)) throw new RangeError('cursor must be the decimal cursor of a previous page');
  const pattern = matchPattern(options.tenantId);
  const keys: string[] = [];
  for (let i = 0; i < maxIterations; i++) {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
    cursor = next;
    keys.push(...batch);
    if (cursor === '0' || keys.length >= pageSize) break;
  }
  const items: MediaListItem[] = [];
  if (keys.length > 0) {
    const pipe = redis.pipeline();
    for (const key of keys) pipe.hgetall(key).ttl(key);
    const replies = (await pipe.exec()) ?? [];
    for (let i = 0; i < keys.length; i++) {
      const [hashErr, hash] = replies[2 * i] ?? [];
      const [, ttl] = replies[2 * i + 1] ?? [];
      if (hashErr) throw hashErr;
      // Expired between SCAN and HGETALL, or not an entry we wrote: skip.
      const entry = fromHash((hash ?? {}) as Record<string, string>);
      if (entry) items.push({ ...entry, expiresInSeconds: typeof ttl === 'number' ? ttl : -1 });
    }
  }
  return { items, cursor, done: cursor === '0' };
}

export interface MediaStats {
  tenantId: string | undefined;
  /** Media ids stored (index entries with status stored). */
  storedMediaIds: number;
  /** Distinct stored objects (one per tenant and sha256) and their bytes: what the store holds on disk. */
  objects: number;
  bytes: number;
  /** Media ids refused, by reason. */
  rejected: Record<MediaRejectionReason, number>;
  /** Stored media ids and distinct-object bytes per media type. */
  byType: Record<MediaType, { mediaIds: number; bytes: number }>;
  /** False when the iteration bound stopped the scan early: the figures cover only part of the index. */
  complete: boolean;
  scannedKeys: number;
}

const statsScanCount = 500;
const statsMaxIterations = 200;

/**
 * Totals over the media index for the admin API: one `SCAN` pass (COUNT 500, at most 200 calls, so at most
 * about 100 000 keys per request) reading only the fields it needs. `complete: false` says the bound was hit.
 */
export async function mediaStats(redis: Redis, options: { tenantId?: string } & ScanBounds = {}): Promise<MediaStats> {
  const pattern = matchPattern(options.tenantId);
  const scanCount = Math.min(Math.max(options.scanCount ?? statsScanCount, 1), 1000);
  const maxIterations = Math.min(Math.max(options.maxIterations ?? statsMaxIterations, 1), 1000);
  const stats: MediaStats = {
    tenantId: options.tenantId,
    storedMediaIds: 0,
    objects: 0,
    bytes: 0,
    rejected: { too_large: 0, mime_not_allowed: 0, corrupt: 0, not_found: 0, quota_exceeded: 0, storage_full: 0 },
    byType: Object.fromEntries(mediaTypes.map((t) => [t, { mediaIds: 0, bytes: 0 }])) as MediaStats['byType'],
    complete: false,
    scannedKeys: 0,
  };
  const seenObjects = new Set<string>();
  let cursor = '0';
  for (let i = 0; i < maxIterations; i++) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
    cursor = next;
    stats.scannedKeys += keys.length;
    if (keys.length > 0) {
      const pipe = redis.pipeline();
      for (const key of keys) pipe.hmget(key, 'status', 'tenantId', 'type', 'size', 'sha256', 'reason');
      for (const [err, reply] of (await pipe.exec()) ?? []) {
        if (err) throw err;
        const [status, tenantId, type, size, sha256, reason] = reply as (string | null)[];
        if (!type || !(mediaTypes as readonly string[]).includes(type)) continue;
        if (status === 'stored' && tenantId && sha256) {
          stats.storedMediaIds++;
          const byType = stats.byType[type as MediaType];
          byType.mediaIds++;
          const objectKey = `${tenantId}/${sha256}`;
          if (!seenObjects.has(objectKey)) {
            seenObjects.add(objectKey);
            const bytes = Number(size) || 0;
            stats.objects++;
            stats.bytes += bytes;
            byType.bytes += bytes;
          }
        } else if (status === 'rejected' && reason && reason in stats.rejected) {
          stats.rejected[reason as MediaRejectionReason]++;
        }
      }
    }
    if (cursor === '0') {
      stats.complete = true;
      break;
    }
  }
  return stats;
}
