import { waitFor } from '../../dev/process';
import { mediaRef } from '../../lib/domain/media';
import {
  createMediaIndex,
  listMedia,
  mediaStats,
  type MediaIndexEntry,
  type MediaListItem,
} from '../../lib/media-index';
import { createRedis, type Redis } from '../../lib/redis';
import { testEnv } from '../helpers/env';

const tenantA = `idx-a-${process.pid}`;
const tenantB = `idx-b-${process.pid}`;
let redis: Redis;

const sha = (n: number) => n.toString(16).padStart(64, '0');

function stored(tenantId: string, n: number, shaOf = n): MediaIndexEntry {
  return {
    status: 'stored',
    tenantId,
    mediaId: `${tenantId}-m${n}`.replace(/[^0-9a-z]/g, '') + n,
    type: n % 2 ? 'audio' : 'image',
    ref: mediaRef(tenantId, sha(shaOf)),
    sha256: sha(shaOf),
    size: 1000 + shaOf,
    mimeType: n % 2 ? 'audio/ogg' : 'image/jpeg',
    recordedAt: new Date().toISOString(),
  };
}

/** Every item of a listing, page by page, with the pages' sizes. */
async function listAll(options: { tenantId?: string; pageSize: number }) {
  const items = new Map<string, MediaListItem>();
  const pages: number[] = [];
  let cursor = '0';
  for (let i = 0; i < 10_000; i++) {
    const page = await listMedia(redis, { ...options, cursor });
    pages.push(page.items.length);
    for (const item of page.items) items.set(`${item.tenantId}/${item.mediaId}`, item);
    cursor = page.cursor;
    if (page.done) return { items, pages };
  }
  throw new Error('listing never finished');
}

beforeAll(async () => {
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
  const index = createMediaIndex(redis, { ttlSeconds: 3600 });
  // Tenant A: 23 stored media ids (ids 21-22 share the object of id 20) and 2 refusals; tenant B: 5 stored.
  for (let n = 0; n < 23; n++) await index.put(stored(tenantA, n, n > 20 ? 20 : n));
  await index.put({
    status: 'rejected',
    tenantId: tenantA,
    mediaId: 'r1',
    type: 'image',
    reason: 'too_large',
    size: 9_000_000,
    recordedAt: new Date().toISOString(),
  });
  await index.put({
    status: 'rejected',
    tenantId: tenantA,
    mediaId: 'r2',
    type: 'audio',
    reason: 'corrupt',
    recordedAt: new Date().toISOString(),
  });
  for (let n = 0; n < 5; n++) await index.put(stored(tenantB, n));
});

afterEach(() => jest.restoreAllMocks());
afterAll(() => redis.disconnect());

describe('listMedia', () => {
  it('pages through one tenant’s media with SCAN, never KEYS, with a bounded number of calls per page', async () => {
    const scan = jest.spyOn(redis, 'scan');
    const keys = jest.spyOn(redis, 'keys');
    const { items, pages } = await listAll({ tenantId: tenantA, pageSize: 7 });
    expect(items.size).toBe(25);
    expect([...items.values()].every((i) => i.tenantId === tenantA)).toBe(true);
    expect(pages.length).toBeGreaterThan(1);
    // SCAN's COUNT is a hint, so a page may run a little over; it never returns the whole keyspace at once.
    expect(Math.max(...pages)).toBeLessThanOrEqual(21);
    expect(scan.mock.calls.length).toBeLessThanOrEqual(pages.length * 10);
    for (const call of scan.mock.calls)
      expect(call).toEqual([expect.any(String), 'MATCH', `media:idx:${tenantA}:*`, 'COUNT', 7]);
    expect(keys).not.toHaveBeenCalled();
  });

  it('shows what an operator needs: status, ref, size, type, MIME type, reason, time left', async () => {
    const { items } = await listAll({ tenantId: tenantA, pageSize: 100 });
    expect(items.get(`${tenantA}/r1`)).toMatchObject({
      status: 'rejected',
      reason: 'too_large',
      type: 'image',
      size: 9_000_000,
      expiresInSeconds: expect.any(Number),
    });
    const first = stored(tenantA, 3);
    expect(items.get(`${tenantA}/${first.mediaId}`)).toMatchObject({ ...first, recordedAt: expect.any(String) });
    expect(items.get(`${tenantA}/${first.mediaId}`)!.expiresInSeconds).toBeGreaterThan(3000);
  });

  it('lists every tenant without a tenant filter', async () => {
    const { items } = await listAll({ pageSize: 100 });
    const ours = [...items.values()].filter((i) => i.tenantId === tenantA || i.tenantId === tenantB);
    expect(ours).toHaveLength(30);
  });

  it('stops after at most 10 SCAN calls per page, returning a cursor to continue from', async () => {
    const scan = jest.spyOn(redis, 'scan');
    // A tenant with no media: the scan has to walk the whole keyspace, 1 key per call, 10 calls per page.
    const page = await listMedia(redis, { tenantId: 'no-such-tenant', pageSize: 1 });
    expect(scan).toHaveBeenCalledTimes(10);
    expect(page).toMatchObject({ items: [], done: false });
    expect(page.cursor).not.toBe('0');
  });

  it('refuses a cursor or tenant id that could not come from us', async () => {
    await expect(listMedia(redis, { cursor: '1; FLUSHALL' })).rejects.toThrow(RangeError);
    await expect(listMedia(redis, { tenantId: '*' })).rejects.toThrow(RangeError);
  });
});

describe('mediaStats', () => {
  it('counts media ids, distinct objects and their bytes, and refusals, per tenant', async () => {
    const stats = await mediaStats(redis, { tenantId: tenantA });
    const distinctBytes = Array.from({ length: 21 }, (_, n) => 1000 + n).reduce((a, b) => a + b, 0);
    expect(stats).toMatchObject({
      tenantId: tenantA,
      storedMediaIds: 23,
      objects: 21,
      bytes: distinctBytes,
      rejected: { too_large: 1, corrupt: 1, mime_not_allowed: 0, not_found: 0 },
      complete: true,
    });
    expect(stats.byType.audio.mediaIds + stats.byType.image.mediaIds).toBe(23);
    expect(stats.byType.audio.bytes + stats.byType.image.bytes).toBe(distinctBytes);
    expect((await mediaStats(redis, { tenantId: tenantB })).storedMediaIds).toBe(5);
  });

  it('says when the iteration bound cut the scan short', async () => {
    const scan = jest.spyOn(redis, 'scan');
    const stats = await mediaStats(redis, { scanCount: 2, maxIterations: 3 });
    expect(scan).toHaveBeenCalledTimes(3);
    expect(stats.complete).toBe(false);
  });
});
