/**
 * Guests' media as the conversation sees it: the types WhatsApp sends, the limits and MIME types it allows, the
 * refs the store hands out, and the contract of the media activities. Pure: no I/O, safe in workflow code.
 */
import { tenantIdPattern } from './tenants';

export const mediaTypes = ['audio', 'image', 'video', 'document', 'sticker'] as const;
export type MediaType = (typeof mediaTypes)[number];

/**
 * Why a media id was not stored. `quota_exceeded` (the tenant's `MEDIA_TENANT_QUOTA_BYTES`) and `storage_full`
 * (`MEDIA_MIN_FREE_BYTES`) are conditions of the moment, so they are not kept in the index.
 */
export type MediaRejectionReason =
  'too_large' | 'mime_not_allowed' | 'corrupt' | 'not_found' | 'quota_exceeded' | 'storage_full';

const MB = 1024 * 1024;

/**
 * What WhatsApp accepts per media type, from Meta's list of supported media types
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types). MIME types
 * compare without parameters (`audio/ogg; codecs=opus` is `audio/ogg`). Sticker: 500 KB is the animated limit
 * (static ones are at most 100 KB).
 */
export const mediaPolicy: Record<MediaType, { maxBytes: number; mimeTypes: readonly string[] }> = {
  audio: { maxBytes: 16 * MB, mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'] },
  image: { maxBytes: 5 * MB, mimeTypes: ['image/jpeg', 'image/png'] },
  video: { maxBytes: 16 * MB, mimeTypes: ['video/mp4', 'video/3gpp'] },
  document: {
    maxBytes: 100 * MB,
    mimeTypes: [
      'text/plain',
      'application/pdf',
      'application/msword',
      'application/vnd.ms-excel',
      'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
  },
  sticker: { maxBytes: 500 * 1024, mimeTypes: ['image/webp'] },
};

/** A MIME type without its parameters, lower case: `audio/ogg; codecs=opus` is `audio/ogg`. */
export function mimeEssence(mimeType: string): string {
  return mimeType.split(';')[0]!.trim().toLowerCase();
}

export function isAllowedMime(type: MediaType, mimeType: string): boolean {
  return mediaPolicy[type].mimeTypes.includes(mimeEssence(mimeType));
}

const sha256HexPattern = /^[0-9a-f]{64}$/;
const refPattern = new RegExp(`^media/(${tenantIdPattern.source.slice(1, -1)})/([0-9a-f]{64})$`);

/** The reference callers store and pass around: `media/<tenant>/<sha256-hex>`. */
export function mediaRef(tenantId: string, sha256: string): string {
  if (!tenantIdPattern.test(tenantId)) throw new RangeError('tenant id must be a slug');
  if (!sha256HexPattern.test(sha256)) throw new RangeError('sha256 must be 64 lowercase hex digits');
  return `media/${tenantId}/${sha256}`;
}

/** The tenant and hash of a ref, or undefined when it is not one (so no path can be smuggled in). */
export function parseMediaRef(ref: string): { tenantId: string; sha256: string } | undefined {
  const match = refPattern.exec(ref);
  return match ? { tenantId: match[1]!, sha256: match[3]! } : undefined;
}

export interface DownloadMediaInput {
  tenantId: string;
  /** Meta's media id, from the webhook (`audio.id`, `image.id`, ...). */
  mediaId: string;
  type: MediaType;
  /** The tenant's WhatsApp token reference (`env:TENANT_<ID>_<NAME>`); the default token when absent. */
  tokenRef?: string | null;
  /** `mime_type` from the webhook; checked against the allowed types before anything is fetched. */
  declaredMimeType?: string;
  /** `sha256` from the webhook: base64, as Meta sends it. Checked as well as the one the media endpoint gives. */
  declaredSha256?: string;
  /** The guest who sent it (their keyed reference): the media is listed with the guest's data and erased with it. */
  guestRef?: string;
}

export type DownloadMediaResult =
  | {
      kind: 'stored';
      mediaId: string;
      /** Hex. */
      sha256: string;
      size: number;
      /** As Meta reported it, e.g. `audio/ogg; codecs=opus`. */
      mimeType: string;
      /** `media/<tenant>/<sha256-hex>`: what the conversation keeps and shows; no filesystem path. */
      ref: string;
    }
  | { kind: 'rejected'; reason: MediaRejectionReason };

export interface TranscribeAudioInput {
  tenantId: string;
  /** A ref returned by `downloadMedia` for this tenant. */
  ref: string;
  language?: 'es' | 'en';
  /** `mimeType` from `downloadMedia`; sniffed from the file's first bytes when absent. */
  mimeType?: string;
}

export type TranscribeAudioResult = { text: string } | { text: null };

/** What the hourly `media-cleanup` run deleted. */
export interface DeletedMedia {
  deleted: number;
  partialsDeleted: number;
}

/** The workflow the admin API starts to erase a guest's media (the worker owns the media store). */
export const guestMediaErasureWorkflowType = 'guestMediaErasure';

/** Whose media to erase: one guest (by keyed reference) at one tenant. */
export interface GuestMediaErasureInput {
  tenantId: string;
  guestRef: string;
}

/** What erasing a guest's media removed. */
export interface GuestMediaErasure {
  /** Media ids of the guest whose index entries were removed. */
  mediaIds: number;
  /** Stored objects deleted from the store, and their bytes. */
  objectsDeleted: number;
  bytesDeleted: number;
  /** Objects kept because another guest of the tenant sent the same content. */
  objectsShared: number;
}
