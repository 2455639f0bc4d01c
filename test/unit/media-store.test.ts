import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createFileMediaStore, MediaIntegrityError, MediaTooLargeError, type MediaStore } from '../../lib/media-store';

const tenantId = 'hotel-sol';
let dir: string;
let store: MediaStore;
const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A source that yields `bytes` in 1 KB chunks, as a network body would. */
const source = (bytes: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += 1024) yield bytes.subarray(i, i + 1024);
    })(),
  );
const allFiles = () => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'media-store-'));
  store = createFileMediaStore({ dir });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('file media store', () => {
  it('stores content under the tenant by sha256 and hands out a ref without a path', async () => {
    const bytes = randomBytes(10_000);
    const put = await store.put(source(bytes), { tenantId, key: '123', maxBytes: 20_000 });
    expect(put).toEqual({
      ref: `media/${tenantId}/${hex(bytes)}`,
      sha256: hex(bytes),
      size: 10_000,
      deduplicated: false,
    });
    expect(readFileSync(path.join(dir, tenantId, hex(bytes).slice(0, 2), hex(bytes))).equals(bytes)).toBe(true);
    expect(await store.stat(put.ref)).toMatchObject({ tenantId, sha256: hex(bytes), size: 10_000 });
    expect(readdirSync(path.join(dir, '.tmp'))).toEqual([]);
  });

  it('keeps one copy of the same content and renews it', async () => {
    const bytes = randomBytes(5_000);
    await store.put(source(bytes), { tenantId, key: '1', maxBytes: 10_000 });
    const again = await store.put(source(bytes), { tenantId, key: '2', maxBytes: 10_000 });
    expect(again.deduplicated).toBe(true);
    expect(allFiles()).toHaveLength(1);
  });

  it('aborts past maxBytes and keeps nothing', async () => {
    const bytes = randomBytes(50_000);
    const progress: number[] = [];
    await expect(
      store.put(source(bytes), { tenantId, key: '1', maxBytes: 20_000, onProgress: (n) => progress.push(n) }),
    ).rejects.toBeInstanceOf(MediaTooLargeError);
    expect(Math.max(...progress)).toBeLessThanOrEqual(20_000);
    expect(allFiles()).toEqual([]);
  });

  it('refuses content whose sha256 or size is not the declared one, and keeps nothing', async () => {
    const bytes = randomBytes(5_000);
    await expect(
      store.put(source(bytes), { tenantId, key: '1', maxBytes: 10_000, expectedSha256: ['0'.repeat(64)] }),
    ).rejects.toMatchObject({ name: 'MediaIntegrityError', what: 'sha256' });
    await expect(
      store.put(source(bytes), { tenantId, key: '1', maxBytes: 10_000, expectedSize: 4_999 }),
    ).rejects.toBeInstanceOf(MediaIntegrityError);
    expect(allFiles()).toEqual([]);
  });

  it('removes the partial file when the source fails mid-stream', async () => {
    const failing = new Readable({
      read() {
        this.push(randomBytes(1024));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(store.put(failing, { tenantId, key: '1', maxBytes: 10_000 })).rejects.toThrow('connection reset');
    expect(allFiles()).toEqual([]);
  });

  it('discards the partial files of one key only', async () => {
    const hang = (key: string) => {
      const stream = new Readable({ read() {} });
      stream.push(Buffer.alloc(100));
      const put = store.put(stream, { tenantId, key, maxBytes: 1000 });
      return { stream, put };
    };
    const a = hang('111');
    const b = hang('222');
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(path.join(dir, '.tmp'))).toHaveLength(2);
    expect(await store.discardPartials(tenantId, '111')).toBe(1);
    const left = readdirSync(path.join(dir, '.tmp'));
    expect(left).toEqual([expect.stringMatching(/^hotel-sol~222~.+\.part$/)]);
    for (const { stream } of [a, b]) stream.push(null);
    // The writer whose temp file was discarded cannot publish; the other one can.
    await expect(a.put).rejects.toThrow();
    await expect(b.put).resolves.toMatchObject({ size: 100 });
  });

  it('answers missing objects and foreign refs with undefined/false, never a path error', async () => {
    const ref = `media/${tenantId}/${'b'.repeat(64)}`;
    expect(await store.has(ref)).toBe(false);
    expect(await store.open(ref)).toBeUndefined();
    expect(await store.openBlob(ref)).toBeUndefined();
    expect(await store.touch(ref)).toBe(false);
    expect(await store.delete(ref)).toBe(false);
    expect(await store.has('media/../../etc/passwd')).toBe(false);
    expect(existsSync(path.join(dir, tenantId))).toBe(false);
  });

  it('reads an object back as a stream and as a Blob', async () => {
    const bytes = randomBytes(3_000);
    const { ref } = await store.put(source(bytes), { tenantId, key: '1', maxBytes: 10_000 });
    const chunks: Buffer[] = [];
    for await (const chunk of (await store.open(ref))!) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    const blob = (await store.openBlob(ref, 'audio/ogg'))!;
    expect(blob.type).toBe('audio/ogg');
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes)).toBe(true);
  });
});
