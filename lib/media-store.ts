import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, openAsBlob, type Stats } from 'node:fs';
import { mkdir, open, opendir, rename, rm, stat, statfs, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mediaRef, parseMediaRef } from './domain/media';
import { tenantIdPattern } from './domain/tenants';

/**
 * The media store: guests' voice notes, photos and documents, content-addressed by sha256, one folder per
 * tenant. Its index in Redis, from WhatsApp media id to stored object, is lib/media-index.ts.
 *
 * On disk (`MEDIA_DIR`):
 *
 * ```
 * <dir>/<tenant>/<sha256[0..2]>/<sha256>   verified objects; the mtime is when one was last stored or asked for
 * <dir>/.tmp/<tenant>~<key>~<uuid>.part     downloads in progress; renamed into place only once verified
 * ```
 *
 * Callers only ever see refs (`media/<tenant>/<sha256-hex>`), never a filesystem path. An object lives
 * `MEDIA_INDEX_TTL_SECONDS` after it was last stored; {@link MediaStore.deleteExpired} (the `media-cleanup`
 * schedule) removes it then, and removes partial files a killed worker left behind.
 */

const sha256HexPattern = /^[0-9a-f]{64}$/;
const tmpDirName = '.tmp';
const partSuffix = '.part';

/** More bytes than allowed arrived; the partial file is gone. */
export class MediaTooLargeError extends Error {
  override readonly name = 'MediaTooLargeError';
  constructor(
    readonly limit: number,
    readonly received: number,
  ) {
    super(`media larger than ${limit} bytes (received at least ${received})`);
  }
}

/** The bytes are not the ones declared (sha256 or size); the partial file is gone. */
export class MediaIntegrityError extends Error {
  override readonly name = 'MediaIntegrityError';
  constructor(
    readonly what: 'sha256' | 'size',
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`media ${what} mismatch: declared ${expected}, received ${actual}`);
  }
}

export interface PutOptions {
  tenantId: string;
  /**
   * What is being stored (the WhatsApp media id). It names the partial file, so a later attempt for the same
   * key can discard what a killed attempt left ({@link MediaStore.discardPartials}).
   */
  key: string;
  /** Abort and discard once more bytes than this arrive. */
  maxBytes: number;
  /** Lowercase hex digests the content must have (each of them); otherwise {@link MediaIntegrityError}. */
  expectedSha256?: readonly string[];
  /** The size the content must have; otherwise {@link MediaIntegrityError}. */
  expectedSize?: number;
  signal?: AbortSignal;
  /** Called with the bytes received so far, as they arrive. */
  onProgress?: (bytes: number) => void;
}

export interface PutResult {
  ref: string;
  sha256: string;
  size: number;
  /** The object was already stored; this put only renewed its lifetime. */
  deduplicated: boolean;
}

export interface StoredObject {
  ref: string;
  tenantId: string;
  sha256: string;
  size: number;
  /** When it was last stored or renewed; it expires `ttl` after this. */
  renewedAt: Date;
}

export interface DeleteExpiredOptions {
  /** Objects not stored or renewed since this are deleted. */
  objectsOlderThan: Date;
  /** Partial files untouched since this (a killed download) are deleted. */
  partialsOlderThan: Date;
  /** Called every few hundred files, for heartbeats. */
  onProgress?: (visited: number) => void;
  signal?: AbortSignal;
}

/**
 * Where media bytes live. The default is the local filesystem ({@link createFileMediaStore}); another
 * implementation (an object store) keeps the same contract: put streams to a temporary name and publishes the
 * object only once verified, so no reader ever sees a partial object.
 */
export interface MediaStore {
  /** Streams `source` in, verifying size limit, sha256 and size; publishes it under its hash. */
  put(source: Readable, options: PutOptions): Promise<PutResult>;
  stat(ref: string): Promise<StoredObject | undefined>;
  has(ref: string): Promise<boolean>;
  /** Renews the object's lifetime; false when it is gone. */
  touch(ref: string): Promise<boolean>;
  /** A stream of the object's bytes, or undefined when it is gone. */
  open(ref: string): Promise<Readable | undefined>;
  /** The object as a lazily read Blob (for multipart uploads), or undefined when it is gone. */
  openBlob(ref: string, type?: string): Promise<Blob | undefined>;
  delete(ref: string): Promise<boolean>;
  /** Deletes the partial files of earlier attempts for this tenant and key; returns how many. */
  discardPartials(tenantId: string, key: string): Promise<number>;
  /**
   * Deletes expired objects and stale partial files; returns how many of each, and the bytes each tenant still
   * stores afterwards (every tenant with a folder, 0 when it is empty), which resets the quota counters.
   */
  deleteExpired(
    options: DeleteExpiredOptions,
  ): Promise<{ objects: number; partials: number; tenantBytes: Record<string, number> }>;
  /** Bytes free for new objects where the store writes (for the free-disk floor); undefined when unknown. */
  freeBytes(): Promise<number | undefined>;
}

function safeKey(key: string): string {
  return key.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128) || '_';
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Flushes the file's data to disk, so an object published by rename survives a machine crash intact. */
async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A media store on the local filesystem under `dir` (created on first use). */
export function createFileMediaStore({ dir }: { dir: string }): MediaStore {
  const root = path.resolve(dir);
  const tmpDir = path.join(root, tmpDirName);

  function objectPath(tenantId: string, sha256: string): string {
    return path.join(root, tenantId, sha256.slice(0, 2), sha256);
  }

  function pathOf(ref: string): { file: string; tenantId: string; sha256: string } | undefined {
    const parsed = parseMediaRef(ref);
    return parsed ? { ...parsed, file: objectPath(parsed.tenantId, parsed.sha256) } : undefined;
  }

  const store: MediaStore = {
    async put(source, options) {
      const { tenantId, maxBytes, signal, onProgress } = options;
      if (!tenantIdPattern.test(tenantId)) throw new RangeError('tenant id must be a slug');
      await mkdir(tmpDir, { recursive: true, mode: 0o750 });
      const temp = path.join(tmpDir, `${tenantId}~${safeKey(options.key)}~${randomUUID()}${partSuffix}`);
      const hash = createHash('sha256');
      let size = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > maxBytes) {
            callback(new MediaTooLargeError(maxBytes, size));
            return;
          }
          hash.update(chunk);
          onProgress?.(size);
          callback(null, chunk);
        },
      });
      const file = createWriteStream(temp, { flags: 'wx', mode: 0o640 });
      // Settles once the file descriptor is closed: a failed pipeline may destroy the stream before its
      // asynchronous open() completed, and the file would otherwise appear after the clean-up below.
      const fileClosed = new Promise<void>((resolve) => file.once('close', () => resolve()));
      try {
        await pipeline(source, meter, file, ...(signal ? [{ signal }] : []));
        await fsyncFile(temp);
        const sha256 = hash.digest('hex');
        if (options.expectedSize !== undefined && size !== options.expectedSize) {
          throw new MediaIntegrityError('size', String(options.expectedSize), String(size));
        }
        for (const expected of options.expectedSha256 ?? []) {
          if (expected !== sha256) throw new MediaIntegrityError('sha256', expected, sha256);
        }
        const ref = mediaRef(tenantId, sha256);
        const final = objectPath(tenantId, sha256);
        await mkdir(path.dirname(final), { recursive: true, mode: 0o750 });
        const existing = await statOrUndefined(final);
        if (existing?.isFile() && existing.size === size) {
          // Same content already stored (content-addressed): keep the one copy and renew its lifetime.
          const now = new Date();
          await utimes(final, now, now);
          return { ref, sha256, size, deduplicated: true };
        }
        // Atomic on one filesystem: readers see the old state or the whole verified object, never a part.
        await rename(temp, final);
        return { ref, sha256, size, deduplicated: false };
      } finally {
        await fileClosed;
        // After a rename there is nothing left at `temp`; otherwise this discards the partial file.
        await rm(temp, { force: true }).catch(() => undefined);
      }
    },

    async stat(ref) {
      const target = pathOf(ref);
      if (!target) return undefined;
      const info = await statOrUndefined(target.file);
      if (!info?.isFile()) return undefined;
      return { ref, tenantId: target.tenantId, sha256: target.sha256, size: info.size, renewedAt: info.mtime };
    },

    async has(ref) {
      return (await store.stat(ref)) !== undefined;
    },

    async touch(ref) {
      const target = pathOf(ref);
      if (!target) return false;
      const now = new Date();
      try {
        await utimes(target.file, now, now);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    async open(ref) {
      const target = pathOf(ref);
      if (!target) return undefined;
      try {
        // Opened before the stream is returned, so a missing object is undefined rather than a stream error.
        const handle = await open(target.file, 'r');
        return handle.createReadStream({ autoClose: true });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async openBlob(ref, type) {
      const target = pathOf(ref);
      if (!target) return undefined;
      // openAsBlob reports a missing file as ERR_INVALID_ARG_VALUE (and synchronously): look first.
      if (!(await statOrUndefined(target.file))?.isFile()) return undefined;
      try {
        return await openAsBlob(target.file, type ? { type } : {});
      } catch (err) {
        if (!(await statOrUndefined(target.file))) return undefined;
        throw err;
      }
    },

    async delete(ref) {
      const target = pathOf(ref);
      if (!target) return false;
      try {
        await unlink(target.file);
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    async discardPartials(tenantId, key) {
      if (!tenantIdPattern.test(tenantId)) throw new RangeError('tenant id must be a slug');
      const prefix = `${tenantId}~${safeKey(key)}~`;
      let removed = 0;
      let entries;
      try {
        entries = await opendir(tmpDir);
      } catch (err) {
        if (isNotFound(err)) return 0;
        throw err;
      }
      for await (const entry of entries) {
        if (!entry.name.startsWith(prefix) || !entry.name.endsWith(partSuffix)) continue;
        await rm(path.join(tmpDir, entry.name), { force: true });
        removed++;
      }
      return removed;
    },

    async freeBytes() {
      await mkdir(root, { recursive: true, mode: 0o750 });
      const fs = await statfs(root);
      // Blocks available to this (unprivileged) process, not the root-reserved ones.
      return fs.bavail * fs.bsize;
    },

    async deleteExpired({ objectsOlderThan, partialsOlderThan, onProgress, signal }) {
      let objects = 0;
      let partials = 0;
      const tenantBytes: Record<string, number> = {};
      let visited = 0;
      const visit = () => {
        signal?.throwIfAborted();
        if (++visited % 200 === 0) onProgress?.(visited);
      };
      /** Unlinks `file` when its mtime is before `cutoff`; a file gone meanwhile is not an error. */
      const removeIfOlder = async (file: string, cutoff: Date): Promise<boolean> => {
        const info = await statOrUndefined(file);
        if (!info?.isFile() || info.mtime >= cutoff) return false;
        try {
          await unlink(file);
          return true;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      };
      const list = async (folder: string) => {
        try {
          return await opendir(folder);
        } catch (err) {
          if (isNotFound(err)) return [];
          throw err;
        }
      };

      for await (const entry of await list(tmpDir)) {
        visit();
        if (entry.isFile() && entry.name.endsWith(partSuffix)) {
          if (await removeIfOlder(path.join(tmpDir, entry.name), partialsOlderThan)) partials++;
        }
      }
      for await (const tenant of await list(root)) {
        if (!tenant.isDirectory() || !tenantIdPattern.test(tenant.name)) continue;
        tenantBytes[tenant.name] = 0;
        for await (const shard of await list(path.join(root, tenant.name))) {
          if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
          const shardDir = path.join(root, tenant.name, shard.name);
          for await (const object of await list(shardDir)) {
            visit();
            if (!object.isFile() || !sha256HexPattern.test(object.name)) continue;
            // Folders are left in place: at most 256 per tenant, and removing one could race a put's rename.
            const file = path.join(shardDir, object.name);
            if (await removeIfOlder(file, objectsOlderThan)) objects++;
            else tenantBytes[tenant.name]! += (await statOrUndefined(file))?.size ?? 0;
          }
        }
      }
      return { objects, partials, tenantBytes };
    },
  };
  return store;
}
