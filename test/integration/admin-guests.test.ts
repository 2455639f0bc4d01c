import type { Client } from '@temporalio/client';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../api/app';
import { englishDate } from '../../dev/dates';
import { waitFor } from '../../dev/process';
import { mediaSha256, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import type { Config } from '../../lib/config';
import { createAdminToken } from '../../lib/db/tokens';
import type { ConversationState } from '../../lib/domain/conversation';
import { guestMediaKey } from '../../lib/guest-media';
import { createGuestRefs } from '../../lib/guest-refs';
import { mediaIndexKey } from '../../lib/media-index';
import { createRedis, type Redis } from '../../lib/redis';
import { auditRows } from '../helpers/admin';
import { conversationIdOf } from '../helpers/conversations';
import { captureLogger } from '../helpers/env';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { mediaWebhook, postSigned, textWebhook, uniqueMessageId, uniqueWaId } from '../helpers/webhooks';

/**
 * A guest's data rights at one hotel, through the admin API on the real worker and stand-ins: the export of what the
 * system holds (conversation and last messages, booking, media, identifier, audit rows), and the erasure of it,
 * media files on disk included, sparing a photo another guest sent too.
 */
let stack: Stack;
let whatsapp: WhatsAppStandin;
let temporal: Client;
let config: Config;
let redis: Redis;
let app: ReturnType<typeof createApp>;
let hotel: TestTenant;
let other: TestTenant;
const tokens = { root: '', hotel: '', other: '', monitoring: '' };
let hotelTokenId: string;

beforeAll(async () => {
  stack = await startStack({ config: { ADMIN_AUTH_FAILURE_LIMIT: '1000', CONVERSATION_DEDUP_WINDOW_SECONDS: '1' } });
  ({ whatsapp, temporal, config } = stack);
  redis = createRedis(config.redisUrl);
  await waitFor('redis', () => redis.status === 'ready');
  // The API with the media index (the stack's has none).
  app = createApp({ temporal, config, log: captureLogger().log, db: stack.worker.db, redis });
  hotel = await stack.tenant({ name: 'Hotel Brisa', locale: 'en', pmsHotelId: 1 });
  other = await stack.tenant({ name: 'Hotel Otro', locale: 'en' });
  const make = (scope: 'admin' | 'monitoring', tenantId: string | null) =>
    createAdminToken(stack.worker.db, { name: 'test', scope, tenantId }, 'test');
  tokens.root = (await make('admin', null)).token;
  const mine = await make('admin', hotel.id);
  tokens.hotel = mine.token;
  hotelTokenId = mine.id;
  tokens.other = (await make('admin', other.id)).token;
  tokens.monitoring = (await make('monitoring', hotel.id)).token;
});

afterAll(async () => {
  redis?.disconnect();
  await stack?.stop();
});

const api = (token: string) => {
  const agent = request(app.callback());
  const auth = (t: request.Test) => t.set('authorization', `Bearer ${token}`);
  return {
    get: (url: string) => auth(agent.get(url)),
    post: (url: string, body?: object) => (body ? auth(agent.post(url)).send(body) : auth(agent.post(url))),
    delete: (url: string) => auth(agent.delete(url)),
  };
};
const guestPath = (waId: string, tenantId = hotel.id, suffix = '') =>
  `/admin/guests/${encodeURIComponent(`+${waId}`)}${suffix}?tenantId=${tenantId}`;

const repliesTo = (waId: string) => whatsapp.sent.filter((m) => m.to === waId).map((m) => m.text ?? '');
async function say(from: string, body: string): Promise<void> {
  await postSigned(app, textWebhook({ phoneNumberId: hotel.phoneNumberId, from, id: uniqueMessageId(), body }));
}

/** A photo the guest sends; where the store keeps it on disk. */
async function sendPhoto(from: string, body: Buffer): Promise<{ mediaId: string; file: string }> {
  const mediaId = `photo-${randomBytes(6).toString('hex')}`;
  whatsapp.addMedia(mediaId, { body, mimeType: 'image/jpeg' });
  const sha256 = await mediaSha256(body);
  await postSigned(
    app,
    mediaWebhook('image', { phoneNumberId: hotel.phoneNumberId, from, mediaId, sha256, mimeType: 'image/jpeg' }),
  );
  const hex = createHash('sha256').update(body).digest('hex');
  return { mediaId, file: path.join(config.media.dir, hotel.id, hex.slice(0, 2), hex) };
}

const photo = () => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(4_000)]);

it("exports a guest's data at one hotel, then erases it: conversation closed, media files and index gone, identifier and audit references removed", async () => {
  const guest = uniqueWaId();
  const neighbour = uniqueWaId();
  const refs = createGuestRefs(config.guestRefKey);
  const guestRef = refs.of(guest);
  const identifierRef = refs.of(`+${guest}`);

  // The hotel registers the guest's number (audited by its reference), and the guest writes, sends two photos (one of
  // which another guest sends too) and books a room.
  await api(tokens.root)
    .post(`/admin/tenants/${hotel.id}/identifiers`, { identifier: `+${guest}` })
    .expect(201);
  await say(guest, 'Hello');
  await waitFor('the greeting', () => repliesTo(guest).length === 1);
  const own = await sendPhoto(guest, photo());
  await waitFor('the first photo stored', () => existsSync(own.file));
  const sharedBytes = photo();
  const shared = await sendPhoto(guest, sharedBytes);
  await waitFor('the second photo stored', () => existsSync(shared.file));
  const theirs = await sendPhoto(neighbour, sharedBytes);
  await waitFor(
    "the neighbour's photo indexed",
    async () => (await redis.exists(mediaIndexKey(hotel.id, theirs.mediaId))) === 1,
  );
  const checkIn = new Date(Date.now() + 40 * 86_400_000);
  const checkOut = new Date(checkIn.getTime() + 2 * 86_400_000);
  await say(guest, `Do you have a room from ${englishDate(checkIn)} to ${englishDate(checkOut)} for 2 adults?`);
  await waitFor('the offer', () => repliesTo(guest).length === 4);
  await say(guest, '1');
  await waitFor('the confirmation', () => repliesTo(guest).some((t) => t.startsWith('Booking confirmed')));
  const id = await conversationIdOf(temporal, config, guest);
  await api(tokens.hotel)
    .post(`/admin/conversations/${encodeURIComponent(id)}/handoff`)
    .expect(200);

  // Monitoring tokens and other hotels get nothing.
  expect((await api(tokens.monitoring).get(guestPath(guest, hotel.id, '/export'))).status).toBe(403);
  expect((await api(tokens.other).get(guestPath(guest, hotel.id, '/export'))).status).toBe(404);
  expect((await api(tokens.monitoring).delete(guestPath(guest))).status).toBe(403);
  expect((await api(tokens.other).delete(guestPath(guest))).status).toBe(404);

  let exported: any;
  await waitFor('the booking in visibility', async () => {
    exported = (
      await api(tokens.hotel)
        .get(guestPath(guest, hotel.id, '/export'))
        .expect(200)
    ).body;
    return exported.bookings.length === 1 && exported.conversations.length === 1;
  });
  expect(exported).toMatchObject({ tenantId: hotel.id, guestRef, identifiers: [`+${guest}`] });
  const state = exported.conversations[0].state as ConversationState;
  expect(exported.conversations[0]).toMatchObject({ workflowId: id, status: 'handoff' });
  expect(state.lastMessages.map((m) => m.text)).toContain('Hello');
  expect(exported.bookings[0]).toMatchObject({ executionStatus: 'COMPLETED', outcome: { kind: 'confirmed' } });
  expect(exported.media.map((m: { mediaId: string }) => m.mediaId).sort()).toEqual(
    [own.mediaId, shared.mediaId].sort(),
  );
  expect(exported.media[0].entry).toMatchObject({ status: 'stored', ref: expect.stringMatching(/^media\//) });
  const actions = exported.audit.map((r: { action: string }) => r.action);
  expect(actions).toEqual(expect.arrayContaining(['tenant.identifier.add', 'conversation.handoff']));
  expect(JSON.stringify(exported.audit)).not.toContain(guest);

  const erased = await api(tokens.hotel).delete(guestPath(guest)).expect(200);
  expect(erased.body).toMatchObject({
    tenantId: hotel.id,
    conversationsClosed: 1,
    mediaIds: 2,
    objectsDeleted: 1,
    objectsShared: 1,
    identifiersRemoved: 1,
  });
  expect(erased.body.auditRowsScrubbed).toBeGreaterThanOrEqual(3);

  // The guest's own photo is gone from disk; the one the neighbour also sent stays for the neighbour.
  expect(existsSync(own.file)).toBe(false);
  expect(existsSync(shared.file)).toBe(true);
  expect(await redis.exists(mediaIndexKey(hotel.id, own.mediaId), mediaIndexKey(hotel.id, shared.mediaId))).toBe(0);
  expect(await redis.exists(guestMediaKey(hotel.id, guestRef))).toBe(0);
  expect(await redis.exists(mediaIndexKey(hotel.id, theirs.mediaId))).toBe(1);
  // The conversation was closed for the erasure, by the token that asked.
  expect(await temporal.workflow.getHandle(id).result()).toMatchObject({
    closedBy: { tokenId: hotelTokenId, reason: 'erasure' },
  });
  // No identifier, and no audit row that names the guest; one row that records the erasure.
  const rows = await auditRows(stack.worker.db, { tenantId: hotel.id });
  expect(JSON.stringify(rows)).not.toContain(guestRef);
  expect(JSON.stringify(rows)).not.toContain(identifierRef);
  expect(rows.filter((r) => r.action === 'guest.erase').at(-1)).toMatchObject({
    actor: hotelTokenId,
    details: { complete: true, objectsDeleted: 1, identifiersRemoved: 1 },
  });
  const after = (
    await api(tokens.hotel)
      .get(guestPath(guest, hotel.id, '/export'))
      .expect(200)
  ).body;
  expect(after).toMatchObject({ identifiers: [], media: [] });
  // The closed run continued as new into its dormant run, which completed (its redelivery window was over).
  expect(after.conversations.map((c: { executionStatus: string }) => c.executionStatus).sort()).toEqual([
    'COMPLETED',
    'CONTINUED_AS_NEW',
  ]);

  // Erasing again finds nothing left; erasing the neighbour deletes the photo they shared.
  const again = await api(tokens.hotel).delete(guestPath(guest)).expect(200);
  expect(again.body).toMatchObject({ conversationsClosed: 0, mediaIds: 0, objectsDeleted: 0, identifiersRemoved: 0 });
  const second = await api(tokens.root).delete(guestPath(neighbour)).expect(200);
  expect(second.body).toMatchObject({ conversationsClosed: 1, mediaIds: 1, objectsDeleted: 1, objectsShared: 0 });
  expect(existsSync(shared.file)).toBe(false);
});

it('refuses what is not a phone number, or a tenant that does not exist, changing nothing', async () => {
  for (const phone of ['not-a-number', '12', 'guest@example.com']) {
    const res = await api(tokens.root).get(`/admin/guests/${encodeURIComponent(phone)}/export?tenantId=${hotel.id}`);
    expect([phone, res.status, res.body.error.code]).toEqual([phone, 400, 'validation_failed']);
  }
  expect((await api(tokens.root).delete(`/admin/guests/%2B34600111222`)).status).toBe(400);
  expect((await api(tokens.root).delete(`/admin/guests/%2B34600111222?tenantId=t-nope`)).status).toBe(404);
});
