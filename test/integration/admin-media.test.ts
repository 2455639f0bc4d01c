import { createMediaIndex } from '../../lib/media-index';
import { createRedis, type Redis } from '../../lib/redis';
import { waitFor } from '../../dev/process';
import { adminTestApp, uniqueTenantId, type AdminTestApp } from '../helpers/admin';
import { testEnv } from '../helpers/env';

/** The admin API's view of the media index: bounded SCAN pages and totals, tenant restriction kept. */
let t: AdminTestApp;
let redis: Redis;
const tenantA = uniqueTenantId();
const tenantB = uniqueTenantId();

beforeAll(async () => {
  redis = createRedis(testEnv().redis.url);
  await waitFor('redis', () => redis.status === 'ready');
  t = adminTestApp({}, { redis });
  for (const tenantId of [tenantA, tenantB]) {
    await t.db.query("INSERT INTO tenants (id, name) VALUES ($1, 'Media hotel')", [tenantId]);
  }
  const index = createMediaIndex(redis, { ttlSeconds: 3600 });
  const recordedAt = new Date().toISOString();
  for (let i = 0; i < 7; i++) {
    await index.put({
      status: 'stored',
      tenantId: tenantA,
      mediaId: `a-${i}`,
      type: 'image',
      ref: `media/${tenantA}/${String(i).repeat(64)}`,
      sha256: String(i).repeat(64),
      size: 1000,
      mimeType: 'image/jpeg',
      recordedAt,
    });
  }
  await index.put({
    status: 'rejected',
    tenantId: tenantB,
    mediaId: 'b-1',
    type: 'audio',
    reason: 'too_large',
    recordedAt,
  });
});

afterAll(async () => {
  redis.disconnect();
  await t.close();
});

it("pages through one tenant's media with a cursor until done", async () => {
  const { token } = await t.token('monitoring');
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const res = await t
      .as(token)
      .get(`/admin/media?tenantId=${tenantA}&pageSize=3${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.status).toBe(200);
    for (const item of res.body.items) seen.add(item.mediaId);
    if (res.body.done) break;
    cursor = res.body.cursor;
  }
  expect([...seen].sort()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-5', 'a-6']);
});

it('totals stored objects and refusals', async () => {
  const { token } = await t.token('admin');
  const a = await t.as(token).get(`/admin/media/stats?tenantId=${tenantA}`);
  expect(a.body).toMatchObject({ storedMediaIds: 7, objects: 7, bytes: 7000, complete: true });
  const b = await t.as(token).get(`/admin/media/stats?tenantId=${tenantB}`);
  expect(b.body.rejected.too_large).toBe(1);
});

it("keeps a restricted token to its tenant's media, and rejects bad queries", async () => {
  const { token } = await t.token('monitoring', tenantB);
  const own = await t.as(token).get('/admin/media');
  expect(own.status).toBe(200);
  expect(own.body.items.every((i: { tenantId: string }) => i.tenantId === tenantB)).toBe(true);
  expect((await t.as(token).get(`/admin/media?tenantId=${tenantA}`)).status).toBe(404);
  expect((await t.as(token).get('/admin/media?pageSize=1000')).status).toBe(400);
  expect((await t.as().get('/admin/media')).status).toBe(401);
});
