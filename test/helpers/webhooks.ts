import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';
import request from 'supertest';
import { signBody } from '../../api/signature';
import { conversationWorkflowId } from '../../lib/domain/messages';
import { createGuestRefs } from '../../lib/guest-refs';
import { testSecrets } from './env';

/** Guest references under the tests' `GUEST_REF_KEY`, as the API computes them. */
export const testGuestRefs = createGuestRefs(testSecrets.GUEST_REF_KEY);

/** The conversation the API signals for a guest's WhatsApp id on a business number: `wa:<number id>:<guest ref>`. */
export function conversationIdFor(phoneNumberId: string, waId: string): string {
  return conversationWorkflowId(phoneNumberId, testGuestRefs.of(waId));
}

export const fixturesDir = path.join(__dirname, '..', 'fixtures', 'whatsapp-webhooks');

/** Meta's published webhook examples, by file name without `.json`. */
export function loadFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(fixturesDir, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

export function fixtureNames(): string[] {
  return readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .sort();
}

interface MessageOverrides {
  phoneNumberId?: string;
  from?: string;
  id?: string;
  body?: string;
  timestamp?: number;
}

/** A unique guest number per test, so conversations (workflow ids) never collide between tests. */
export function uniqueWaId(): string {
  return `1555${Math.floor(Math.random() * 1e9)
    .toString()
    .padStart(9, '0')}`;
}

export function uniqueMessageId(): string {
  return `wamid.test.${randomUUID()}`;
}

/**
 * Meta's text message example (`text.json`) with the fields a test needs changed; everything else,
 * including the envelope and key order, stays as Meta published it.
 */
export function textWebhook(overrides: MessageOverrides = {}): Record<string, unknown> {
  const payload = loadFixture('text');
  const value = (payload as { entry: { changes: { value: Record<string, any> }[] }[] }).entry[0]!.changes[0]!.value;
  const from = overrides.from ?? uniqueWaId();
  if (overrides.phoneNumberId) value.metadata.phone_number_id = overrides.phoneNumberId;
  value.contacts[0].wa_id = from;
  const message = value.messages[0];
  message.from = from;
  message.id = overrides.id ?? uniqueMessageId();
  if (overrides.body !== undefined) message.text.body = overrides.body;
  if (overrides.timestamp !== undefined) message.timestamp = String(overrides.timestamp);
  return payload;
}

/**
 * Meta's media example (`audio.json`, `image.json`) from `from` to `phoneNumberId`, naming a media id the WhatsApp
 * stand-in serves; everything else stays as Meta published it.
 */
export function mediaWebhook(
  fixture: 'audio' | 'image',
  media: { phoneNumberId: string; from: string; mediaId: string; sha256: string; mimeType: string },
): Record<string, unknown> {
  const payload = loadFixture(fixture) as any;
  const value = payload.entry[0].changes[0].value;
  value.metadata.phone_number_id = media.phoneNumberId;
  for (const contact of value.contacts ?? []) contact.wa_id = media.from;
  const message = value.messages[0];
  message.from = media.from;
  message.id = uniqueMessageId();
  message[fixture] = { ...message[fixture], id: media.mediaId, sha256: media.sha256, mime_type: media.mimeType };
  return payload as Record<string, unknown>;
}

/**
 * Posts a webhook as Meta does: the raw JSON bytes, signed with the app secret. Expects 200, so a test
 * fails at the post rather than later while waiting for a reply.
 */
export async function postSigned(app: Koa, payload: unknown, secret = testSecrets.WHATSAPP_APP_SECRET): Promise<void> {
  const raw = typeof payload === 'string' ? payload : JSON.stringify(payload);
  await request(app.callback())
    .post('/webhooks/whatsapp')
    .set('content-type', 'application/json')
    .set('x-hub-signature-256', signBody(raw, secret))
    .send(raw)
    .expect(200);
}

/**
 * Meta's interactive reply example (`interactive_list_reply.json` or `interactive_button_reply.json`): the guest
 * tapped the row or button with this id and title, from `from` to `phoneNumberId`.
 */
export function interactiveReplyWebhook(
  kind: 'list_reply' | 'button_reply',
  reply: { phoneNumberId: string; from: string; id: string; title: string; contextId?: string },
): { payload: Record<string, unknown>; messageId: string } {
  const payload = loadFixture(kind === 'list_reply' ? 'interactive_list_reply' : 'interactive_button_reply') as any;
  const value = payload.entry[0].changes[0].value;
  value.metadata.phone_number_id = reply.phoneNumberId;
  for (const contact of value.contacts ?? []) contact.wa_id = reply.from;
  const message = value.messages[0];
  message.from = reply.from;
  message.id = uniqueMessageId();
  message.timestamp = String(Math.floor(Date.now() / 1000));
  if (reply.contextId && message.context) message.context.id = reply.contextId;
  message.interactive[kind] = { ...message.interactive[kind], id: reply.id, title: reply.title };
  if (kind === 'list_reply') delete message.interactive[kind].description;
  return { payload: payload as Record<string, unknown>, messageId: message.id as string };
}
