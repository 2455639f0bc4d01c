import type Redis from 'ioredis';
import { parseMediaRef, type GuestMediaErasure } from './domain/media';
import type { MediaIndex, MediaIndexEntry } from './media-index';
import { mediaIndexKey, mediaUsageKey } from './media-index';
import type { MediaStore } from './media-store';

/**
 * Which media each guest sent, for the guest's data rights (export, erasure), in Redis next to the media index:
 *
 * - `media:guest:<tenant>:<guest ref>`: the WhatsApp media ids the guest sent to the tenant (a set);
 * - `media:holders:<tenant>:<sha256>`: the guests whose media is that stored object (a set). The store keeps one
 *   object per content, so two guests who send the same sticker share it: erasing one guest keeps the object while
 *   another guest still holds it.
 *
 * Both expire with the index entries (`MEDIA_INDEX_TTL_SECONDS` after the last download), as the objects do. Keys carry
 * the guest's keyed reference, never a phone number.
 */

export function guestMediaKey(tenantId: string, guestRef: string): string {
  return `media:guest:${tenantId}:${guestRef}`;
}

export function mediaHoldersKey(tenantId: string, sha256: string): string {
  return `media:holders:${tenantId}:${sha256}`;
}

/** Records that `guestRef` sent `mediaId` (stored as the object of hash `sha256`, when it was stored). */
export async function recordGuestMedia(
  redis: Redis,
  entry: { tenantId: string; guestRef: string; mediaId: string; sha256?: string | undefined },
  ttlSeconds: number,
): Promise<void> {
  const guestKey = guestMediaKey(entry.tenantId, entry.guestRef);
  const tx = redis.multi().sadd(guestKey, entry.mediaId).expire(guestKey, ttlSeconds);
  if (entry.sha256 !== undefined) {
    const holders = mediaHoldersKey(entry.tenantId, entry.sha256);
    tx.sadd(holders, entry.guestRef).expire(holders, ttlSeconds);
  }
  await tx.exec();
}

/** A media id the guest sent, with its index entry (gone once the entry expired). */
export interface GuestMediaItem {
  mediaId: string;
  entry: MediaIndexEntry | undefined;
}

/** The media the guest sent to the tenant, as the index knows it. */
export async function listGuestMedia(
  redis: Redis,
  index: MediaIndex,
  tenantId: string,
  guestRef: string,
): Promise<GuestMediaItem[]> {
  const ids = (await redis.smembers(guestMediaKey(tenantId, guestRef))).sort();
  return Promise.all(ids.map(async (mediaId) => ({ mediaId, entry: await index.get(tenantId, mediaId) })));
}

/**
 * Erases the media the guest sent to the tenant: the stored objects no other guest holds, the index entries of the
 * guest's media ids, and the guest's set. Safe to run again: a second run finds nothing left.
 */
export async function eraseGuestMedia(
  redis: Redis,
  store: MediaStore,
  index: MediaIndex,
  tenantId: string,
  guestRef: string,
): Promise<GuestMediaErasure> {
  const items = await listGuestMedia(redis, index, tenantId, guestRef);
  const refs = new Map<string, string>();
  for (const { entry } of items) {
    if (entry?.status === 'stored' && parseMediaRef(entry.ref)?.tenantId === tenantId)
      refs.set(entry.sha256, entry.ref);
  }
  const result: GuestMediaErasure = { mediaIds: items.length, objectsDeleted: 0, bytesDeleted: 0, objectsShared: 0 };
  for (const [sha256, ref] of refs) {
    const holders = mediaHoldersKey(tenantId, sha256);
    const replies = (await redis.multi().srem(holders, guestRef).scard(holders).exec()) ?? [];
    const failed = replies.find(([err]) => err)?.[0];
    if (failed) throw failed;
    if (Number(replies[1]?.[1] ?? 0) > 0) {
      result.objectsShared++;
      continue;
    }
    const object = await store.stat(ref);
    if (await store.delete(ref)) {
      result.objectsDeleted++;
      result.bytesDeleted += object?.size ?? 0;
    }
  }
  const tx = redis.multi();
  for (const { mediaId } of items) tx.del(mediaIndexKey(tenantId, mediaId));
  tx.del(guestMediaKey(tenantId, guestRef));
  // The hourly cleanup recounts usage from disk; until then the quota counts what is gone as gone.
  if (result.bytesDeleted > 0) tx.decrby(mediaUsageKey(tenantId), result.bytesDeleted);
  await tx.exec();
  return result;
}
