import { type Client } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { waitFor } from '../../dev/process';
import { mediaSha256, type WhatsAppStandin } from '../../dev/whatsapp-standin';
import { stateQuery } from '../../lib/domain/conversation';
import { startStack, type Stack } from '../helpers/stack';
import type { TestTenant } from '../helpers/tenants';
import { mediaWebhook, postSigned, uniqueWaId, conversationIdFor } from '../helpers/webhooks';

/** Voice notes and photos through the conversation: downloaded as they arrive, shown to staff in `state`. */
let stack: Stack;
let whatsapp: WhatsAppStandin;
let temporal: Client;
let app: Stack['app'];
let tenant: TestTenant;

beforeAll(async () => {
  // The transcription stand-in hears `SAY:<words>|` in a recording's bytes as those words.
  stack = await startStack({
    transcription: true,
    // Every tenant of this file stores far less, except the one of the quota test.
    config: { MEDIA_TENANT_QUOTA_BYTES: String(4 * 1024 * 1024) },
  });
  ({ whatsapp, temporal, app } = stack);
  tenant = await stack.tenant({ locale: 'en' });
});

afterAll(() => stack?.stop());

/** Meta's own media example (`audio.json`, `image.json`) from a new guest, pointing at media the stand-in serves. */
async function sendMedia(
  fixture: 'audio' | 'image',
  mediaId: string,
  sha256: string,
  mimeType: string,
  to: TestTenant = tenant,
): Promise<string> {
  const from = uniqueWaId();
  const payload = mediaWebhook(fixture, { phoneNumberId: to.phoneNumberId, from, mediaId, sha256, mimeType });
  await postSigned(app, payload);
  return from;
}

const repliesTo = (waId: string) => whatsapp.sent.filter((m) => m.to === waId).map((m) => m.text ?? '');
const stateOf = (waId: string) =>
  temporal.workflow.getHandle(conversationIdFor(tenant.phoneNumberId, waId)).query(stateQuery);

it('downloads a voice note, keeps its reference for staff, and tells the guest a person will listen', async () => {
  const body = Buffer.concat([Buffer.from('OggS'), randomBytes(20_000)]);
  const mediaId = `audio-${Date.now()}`;
  whatsapp.addMedia(mediaId, { body, mimeType: 'audio/ogg; codecs=opus' });
  const from = await sendMedia('audio', mediaId, await mediaSha256(body), 'audio/ogg; codecs=opus');
  await waitFor('the reply', () => repliesTo(from).length === 1);
  expect(repliesTo(from)[0]).toBe(
    'We have received your voice note. A member of our team will listen to it and answer you.',
  );
  const state = await stateOf(from);
  expect(state.staffRequested).toBe(true);
  expect(state.lastMessages[0]).toMatchObject({
    direction: 'in',
    type: 'audio',
    media: { ref: expect.stringMatching(new RegExp(`^media/${tenant.id}/[0-9a-f]{64}$`)), size: body.length },
  });
});

it('understands a transcribed voice note like typed text', async () => {
  const body = Buffer.concat([
    Buffer.from('OggS'),
    Buffer.from('SAY:Can I talk to a person please?|'),
    randomBytes(5_000),
  ]);
  const mediaId = `audio-said-${Date.now()}`;
  whatsapp.addMedia(mediaId, { body, mimeType: 'audio/ogg; codecs=opus' });
  const from = await sendMedia('audio', mediaId, await mediaSha256(body), 'audio/ogg; codecs=opus');
  await waitFor('the reply', () => repliesTo(from).length === 1);
  expect(repliesTo(from)[0]).toMatch(/^We are putting you in touch with the .* team\. A person will answer shortly\.$/);
  expect((await stateOf(from)).lastMessages[0]).toMatchObject({
    type: 'audio',
    text: 'Can I talk to a person please?',
  });
});

it('downloads a photo and refuses a file over the limit with a clear answer', async () => {
  const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(10_000)]);
  const photoId = `image-${Date.now()}`;
  whatsapp.addMedia(photoId, { body: photo, mimeType: 'image/jpeg' });
  const from = await sendMedia('image', photoId, await mediaSha256(photo), 'image/jpeg');
  await waitFor('the reply', () => repliesTo(from).length === 1);
  expect(repliesTo(from)[0]).toBe('We have received your file. Our team will review it.');
  expect((await stateOf(from)).lastMessages[0]?.media).toMatchObject({ mimeType: 'image/jpeg', size: photo.length });

  const hugeId = `image-huge-${Date.now()}`;
  whatsapp.addMedia(hugeId, { body: photo, mimeType: 'image/jpeg', fileSize: 6 * 1024 * 1024 });
  const other = await sendMedia('image', hugeId, await mediaSha256(photo), 'image/jpeg');
  await waitFor('the refusal', () => repliesTo(other).length === 1);
  expect(repliesTo(other)[0]).toBe('We could not receive your file: it is too large. Could you send a smaller one?');
  expect((await stateOf(other)).lastMessages[0]?.media).toEqual({ rejected: 'too_large' });
});

it("refuses a file over the hotel's media quota: the guest is told plainly, staff are flagged, nothing is fetched", async () => {
  const hotel = await stack.tenant({ locale: 'en' });
  const photo = (seed: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, seed]), randomBytes(3 * 1024 * 1024)]);
  const first = photo(1);
  const firstId = `image-quota-a-${Date.now()}`;
  whatsapp.addMedia(firstId, { body: first, mimeType: 'image/jpeg' });
  const guest = await sendMedia('image', firstId, await mediaSha256(first), 'image/jpeg', hotel);
  await waitFor('the first file stored', () => repliesTo(guest).length === 1);
  expect(repliesTo(guest)[0]).toBe('We have received your file. Our team will review it.');

  const second = photo(2);
  const secondId = `image-quota-b-${Date.now()}`;
  whatsapp.addMedia(secondId, { body: second, mimeType: 'image/jpeg' });
  const filesBefore = whatsapp.media.file;
  const other = await sendMedia('image', secondId, await mediaSha256(second), 'image/jpeg', hotel);
  await waitFor('the refusal', () => repliesTo(other).length === 1);
  expect(repliesTo(other)[0]).toBe(
    'We could not keep your file: the space for guest files at this hotel is full. A member of our team will follow up.',
  );
  const state = await temporal.workflow.getHandle(conversationIdFor(hotel.phoneNumberId, other)).query(stateQuery);
  expect(state.lastMessages[0]?.media).toEqual({ rejected: 'quota_exceeded' });
  expect(state.staffRequested).toBe(true);
  expect(whatsapp.media.file).toBe(filesBefore);
});
